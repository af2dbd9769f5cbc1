/**
 * The apiserver's generic registry for one request: decode, admission, the create / update / delete
 * strategies, validation, and the write itself. HTTP handlers and the direct seeding API both go through
 * here so they cannot drift apart.
 */
import { randomUUID } from 'node:crypto';
import {
  bindIdentity,
  bindNamespace,
  decodeFields,
  decodeObject,
  type FieldValidation,
  refuseBody,
  refusePatch,
} from './decoding.js';
import { fieldError } from './field-errors.js';
import { clone, isObject, type JsonObject, metadataOf, readMetadata, stringArray } from './json.js';
import { isNamespaceType, NamespaceLifecycle } from './namespace-lifecycle.js';
import { nowTimestamp, validateObjectMeta } from './object-meta.js';
import { applyPatch, decodeApplyBody, type PatchKind } from './patch.js';
import { asVersion, groupResourceOf, type ResourceType, storageKeyOf } from './resource-type.js';
import { apiErrors } from './status-errors.js';
import type { ObjectStore } from './store.js';
import { checkResourceVersion, isNoOpWrite, prepareUpdate } from './update-strategy.js';

export type { FieldValidation } from './decoding.js';

export interface WriteOptions {
  readonly subresource?: 'status' | undefined;
  readonly dryRun?: boolean;
  /** Defaults to Warn, the apiserver's default since field validation went GA. */
  readonly fieldValidation?: FieldValidation;
}

export interface PatchOptions extends WriteOptions {
  readonly fieldManager?: string | undefined;
  readonly force?: boolean | undefined;
}

export interface DeleteOptions {
  readonly dryRun?: boolean;
  readonly preconditions?: {
    readonly uid?: string | undefined;
    readonly resourceVersion?: string | undefined;
  };
}

export interface WriteResult {
  readonly object: JsonObject;
  /** `Warning` header texts, e.g. `unknown field "spec.foo"` under fieldValidation=Warn. */
  readonly warnings: readonly string[];
  /** True when an apply patch created the object (the apiserver answers 201 then). */
  readonly created?: boolean;
}

export interface DeleteResult {
  readonly object: JsonObject;
  /** False when finalizers keep the object around with a deletionTimestamp. */
  readonly removed: boolean;
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** Server-owned metadata a create request cannot set. */
const SYSTEM_FIELDS = [
  'resourceVersion',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
  'managedFields',
];

export class ResourceService {
  private readonly namespaces: NamespaceLifecycle;

  /** `collections` lists one type per namespaced storage collection, scanned when a namespace terminates. */
  constructor(
    private readonly store: ObjectStore,
    collections: () => readonly ResourceType[],
  ) {
    this.namespaces = new NamespaceLifecycle(store, collections);
  }

  find(type: ResourceType, namespace: string | undefined, name: string): JsonObject | undefined {
    const stored = this.stored(type, namespace, name);
    return stored && asVersion(stored, type);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): JsonObject {
    return asVersion(this.requireStored(type, namespace, name), type);
  }

  create(
    type: ResourceType,
    namespace: string | undefined,
    body: unknown,
    opts: WriteOptions = {},
  ): WriteResult {
    const obj = decodeObject(type, body);
    bindNamespace(type, obj, namespace);
    const warnings = decodeFields(type, obj, opts.fieldValidation);
    const meta = metadataOf(obj);
    if (type.namespaced) this.namespaces.requireActive(type, String(namespace), String(meta.name ?? ''));
    if (!meta.name && typeof meta.generateName === 'string' && meta.generateName) {
      meta.name = this.generateName(type, namespace, meta.generateName);
    }
    for (const field of SYSTEM_FIELDS) delete meta[field];
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    if (type.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    if (type.statusSubresource) delete obj.status;
    type.normalize?.(obj, undefined);
    this.validate(type, obj, undefined);
    const name = String(meta.name);
    if (this.stored(type, namespace, name)) throw apiErrors.alreadyExists(groupResourceOf(type), name);
    if (opts.dryRun) return { object: obj, warnings };
    return { object: asVersion(this.store.insert(storageKeyOf(type), obj), type), warnings };
  }

  update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOptions = {},
  ): WriteResult {
    const old = this.requireStored(type, namespace, name);
    const incoming = decodeObject(type, body);
    bindIdentity(type, incoming, namespace, name);
    const warnings = decodeFields(type, incoming, opts.fieldValidation);
    return this.commitUpdate(type, old, incoming, opts, warnings);
  }

  patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    kind: PatchKind,
    raw: string,
    opts: PatchOptions = {},
  ): WriteResult {
    validatePatchOptions(kind, opts);
    const old = this.stored(type, namespace, name);
    if (!old) {
      // Server-side apply creates what does not exist yet; every other patch needs a target.
      if (kind !== 'apply' || opts.subresource) throw apiErrors.notFound(groupResourceOf(type), name);
      const desired = decodeApplyBody(raw);
      bindIdentity(type, decodeObject(type, desired), namespace, name);
      return { ...this.create(type, namespace, desired, opts), created: true };
    }
    const patched = applyPatch(kind, clone(asVersion(old, type)), raw, groupResourceOf(type), name);
    const incoming = decodeObject(type, patched);
    bindIdentity(type, incoming, namespace, name);
    const refuse = kind === 'apply' ? refuseBody : refusePatch(patched);
    const warnings = decodeFields(type, incoming, opts.fieldValidation, refuse);
    return this.commitUpdate(type, old, incoming, opts, warnings);
  }

  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): DeleteResult {
    const old = this.requireStored(type, namespace, name);
    checkDeletePreconditions(type, old, opts);
    const oldMeta = readMetadata(old);
    if (oldMeta.deletionTimestamp) return { object: asVersion(old, type), removed: false };
    const isNamespace = isNamespaceType(type);
    if (stringArray(oldMeta.finalizers).length === 0 && !isNamespace) {
      if (opts.dryRun) return { object: asVersion(old, type), removed: true };
      return { object: asVersion(this.remove(type, old), type), removed: true };
    }
    // Finalizers (or the namespace controller) hold the object: mark it and keep it.
    const next = clone(old);
    const meta = metadataOf(next);
    // The store's markAsDeleting: controllers must see the object change behaviour, so a set generation moves.
    if (Number(meta.generation) > 0) meta.generation = Number(meta.generation) + 1;
    meta.deletionTimestamp = nowTimestamp();
    meta.deletionGracePeriodSeconds = 0;
    if (isNamespace) next.status = { ...(isObject(next.status) ? next.status : {}), phase: 'Terminating' };
    if (opts.dryRun) return { object: asVersion(next, type), removed: false };
    let stored = this.store.replace(storageKeyOf(type), old, next);
    if (isNamespace) stored = this.namespaces.terminate(name, (t, ns, n) => this.delete(t, ns, n)) ?? stored;
    return { object: asVersion(stored, type), removed: false };
  }

  private commitUpdate(
    type: ResourceType,
    old: JsonObject,
    incoming: JsonObject,
    opts: WriteOptions,
    warnings: readonly string[],
  ): WriteResult {
    checkResourceVersion(type, old, incoming);
    const next = prepareUpdate(type, old, incoming, opts.subresource);
    this.validate(type, next, old);
    if (isNoOpWrite(next, old)) return { object: asVersion(old, type), warnings };
    const meta = metadataOf(next);
    meta.resourceVersion = readMetadata(old).resourceVersion;
    if (opts.dryRun) return { object: next, warnings };
    // Releasing the last finalizer of a deleting object deletes it instead of storing the update; the
    // answer is still the updated object (never stored, so with the old resourceVersion), as clients
    // expect from a successful PUT or PATCH.
    if (meta.deletionTimestamp && stringArray(meta.finalizers).length === 0) {
      this.remove(type, old);
      return { object: asVersion(next, type), warnings };
    }
    return { object: asVersion(this.store.replace(storageKeyOf(type), old, next), type), warnings };
  }

  private remove(type: ResourceType, old: JsonObject): JsonObject {
    const final = this.store.remove(storageKeyOf(type), old);
    const namespace = readMetadata(old).namespace;
    if (type.namespaced && typeof namespace === 'string') this.namespaces.removeIfEmpty(namespace);
    return final;
  }

  private stored(type: ResourceType, namespace: string | undefined, name: string): JsonObject | undefined {
    return this.store.get(storageKeyOf(type), type.namespaced ? namespace : undefined, name);
  }

  private requireStored(type: ResourceType, namespace: string | undefined, name: string): JsonObject {
    const stored = this.stored(type, namespace, name);
    if (!stored) throw apiErrors.notFound(groupResourceOf(type), name);
    return stored;
  }

  private validate(type: ResourceType, obj: JsonObject, old: JsonObject | undefined): void {
    const errors = [
      ...validateObjectMeta(obj, type.nameRule),
      ...(type.schema?.validate(obj) ?? []),
      ...(type.validate?.(obj, old) ?? []),
    ];
    // CEL rules run last, and not at all after certain errors: they need every error found before them.
    errors.push(...(type.schema?.validateRules(obj, old, errors) ?? []));
    if (errors.length > 0)
      throw apiErrors.invalid(type.kind, type.group, String(readMetadata(obj).name ?? ''), errors);
  }

  private generateName(type: ResourceType, namespace: string | undefined, prefix: string): string {
    for (;;) {
      let suffix = '';
      for (let i = 0; i < 5; i++)
        suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
      if (!this.stored(type, namespace, prefix + suffix)) return prefix + suffix;
    }
  }
}

/** PatchOptions validation happens before the object is even looked up. */
function validatePatchOptions(kind: PatchKind, opts: PatchOptions): void {
  if (kind === 'apply' && !opts.fieldManager) {
    throw apiErrors.invalid('PatchOptions', 'meta.k8s.io', '', [
      fieldError.required('fieldManager', 'is required for apply patch'),
    ]);
  }
  if (kind !== 'apply' && opts.force !== undefined) {
    throw apiErrors.invalid('PatchOptions', 'meta.k8s.io', '', [
      fieldError.forbidden('force', 'may not be specified for non-apply patch'),
    ]);
  }
}

function checkDeletePreconditions(type: ResourceType, old: JsonObject, opts: DeleteOptions): void {
  const meta = readMetadata(old);
  const name = String(meta.name);
  const pre = opts.preconditions;
  if (pre?.uid && pre.uid !== meta.uid) {
    throw apiErrors.conflict(
      groupResourceOf(type),
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(meta.uid)}`,
    );
  }
  if (pre?.resourceVersion && pre.resourceVersion !== meta.resourceVersion) {
    throw apiErrors.conflict(
      groupResourceOf(type),
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ` +
        `ResourceVersion in object meta: ${String(meta.resourceVersion)}`,
    );
  }
}
