/**
 * What an update may change, per the apiserver's `rest.BeforeUpdate` and the custom resource strategies:
 * the resourceVersion precondition, status isolation between `/status` and the main endpoint, immutable
 * system metadata, the no-new-finalizers rule, and generation bumps.
 */
import { type FieldError, fieldError } from './field-errors.js';
import { clone, deepEqual, type JsonObject, metadataOf, readMetadata, stringArray } from './json.js';
import { apiVersionOf, groupResourceOf, type ResourceType } from './resource-type.js';
import { apiErrors } from './status-errors.js';

/** A set resourceVersion must match; an absent one is only allowed where unconditional updates are. */
export function checkResourceVersion(type: ResourceType, old: JsonObject, incoming: JsonObject): void {
  const oldMeta = readMetadata(old);
  const name = String(oldMeta.name);
  const requested = readMetadata(incoming).resourceVersion;
  if (requested === undefined || requested === '') {
    if (type.allowUnconditionalUpdate) return;
    // The apiserver names the resource, not the kind, in this particular error.
    throw apiErrors.invalid(type.plural, type.group, name, [
      fieldError.invalid('metadata.resourceVersion', 0, 'must be specified for an update'),
    ]);
  }
  if (requested !== oldMeta.resourceVersion)
    throw apiErrors.staleResourceVersion(groupResourceOf(type), name);
}

/** PUT/PATCH on `/status`: everything but `.status` comes from the stored object. */
function statusUpdate(type: ResourceType, old: JsonObject, incoming: JsonObject): JsonObject {
  const next = clone(old);
  next.apiVersion = apiVersionOf(type);
  if (incoming.status !== undefined) next.status = incoming.status;
  else delete next.status;
  return next;
}

function newFinalizerErrors(oldMeta: JsonObject, meta: JsonObject): FieldError[] {
  if (!oldMeta.deletionTimestamp) return [];
  const oldFinalizers = stringArray(oldMeta.finalizers);
  const added = stringArray(meta.finalizers).filter((f) => !oldFinalizers.includes(f));
  if (added.length === 0) return [];
  const goList = `[]string{${added.map((f) => JSON.stringify(f)).join(', ')}}`;
  return [
    fieldError.forbidden(
      'metadata.finalizers',
      `no new finalizers can be added if the object is being deleted, found new finalizers ${goList}`,
    ),
  ];
}

/** Main endpoint: system metadata is kept from the stored object, `.status` too when it is a subresource. */
function mainUpdate(type: ResourceType, old: JsonObject, incoming: JsonObject): JsonObject {
  const next = incoming;
  const meta = metadataOf(next);
  const oldMeta = readMetadata(old);
  const errors: FieldError[] = [];
  if (meta.uid !== undefined && meta.uid !== '' && meta.uid !== oldMeta.uid) {
    errors.push(fieldError.invalid('metadata.uid', meta.uid, 'field is immutable'));
  }
  for (const field of ['deletionTimestamp', 'deletionGracePeriodSeconds']) {
    // Clients can neither set nor clear these; the apiserver silently keeps an existing value.
    if (oldMeta[field] !== undefined) meta[field] = oldMeta[field];
    else if (meta[field] === null) delete meta[field];
    else if (meta[field] !== undefined)
      errors.push(fieldError.invalid(`metadata.${field}`, meta[field], 'field is immutable'));
  }
  errors.push(...newFinalizerErrors(oldMeta, meta));
  if (errors.length > 0) throw apiErrors.invalid(type.kind, type.group, String(oldMeta.name), errors);
  meta.uid = oldMeta.uid;
  meta.creationTimestamp = oldMeta.creationTimestamp;
  delete meta.selfLink;
  delete meta.managedFields;
  if (type.statusSubresource) {
    if (old.status !== undefined) next.status = clone(old.status);
    else delete next.status;
  }
  type.normalize?.(next, old);
  return next;
}

/** Everything but metadata (and status when it is a subresource): what generation tracks. */
function specPart(obj: JsonObject, withoutStatus: boolean): JsonObject {
  const { metadata: _m, apiVersion: _a, status, ...rest } = obj;
  return withoutStatus ? rest : { ...rest, status };
}

/** Builds the object an update would store, generation included (clients cannot set it). */
export function prepareUpdate(
  type: ResourceType,
  old: JsonObject,
  incoming: JsonObject,
  subresource: 'status' | undefined,
): JsonObject {
  const next = subresource === 'status' ? statusUpdate(type, old, incoming) : mainUpdate(type, old, incoming);
  const meta = metadataOf(next);
  const oldGeneration = readMetadata(old).generation;
  if (oldGeneration === undefined) delete meta.generation;
  else meta.generation = oldGeneration;
  if (type.tracksGeneration && subresource !== 'status') {
    const changed = !deepEqual(specPart(next, type.statusSubresource), specPart(old, type.statusSubresource));
    meta.generation = (Number(oldGeneration) || 0) + (changed ? 1 : 0);
  }
  return next;
}

/** The storage layer skips writes equal to what is stored: no new revision, no watch event. */
export function isNoOpWrite(next: JsonObject, old: JsonObject): boolean {
  const strip = (obj: JsonObject) => {
    const { resourceVersion: _rv, ...meta } = readMetadata(obj);
    const { apiVersion: _a, ...rest } = obj;
    return { ...rest, metadata: meta };
  };
  return deepEqual(strip(next), strip(old));
}
