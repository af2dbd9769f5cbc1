/**
 * The request decoding step: the body must be an object of the endpoint's apiVersion and kind, custom
 * resources are pruned and defaulted, and unknown fields fail (Strict) or warn (Warn, the default).
 */
import { fieldError } from './field-errors.js';
import { clone, isObject, type JsonObject, metadataOf } from './json.js';
import { apiVersionOf, type ResourceType } from './resource-type.js';
import { type ApiError, apiErrors } from './status-errors.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

const NAMESPACE_MISMATCH =
  'the namespace of the provided object does not match the namespace sent on the request';

/** Returns a private copy of the body, with apiVersion/kind defaulted for built-ins (typed decoding does). */
export function decodeObject(type: ResourceType, body: unknown): JsonObject {
  if (!isObject(body))
    throw apiErrors.badRequest(`the body of the request must be a JSON object of kind ${type.kind}`);
  const obj = clone(body);
  const expected = apiVersionOf(type);
  if (type.isCustomResource) {
    // The unstructured decoder cannot guess what a custom resource body is.
    if (!obj.kind) throw apiErrors.badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    if (!obj.apiVersion)
      throw apiErrors.badRequest(`Object 'apiVersion' is missing in '${JSON.stringify(body)}'`);
  }
  obj.apiVersion ??= expected;
  obj.kind ??= type.kind;
  if (obj.apiVersion !== expected) {
    throw apiErrors.badRequest(
      `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expected})`,
    );
  }
  if (obj.kind !== type.kind) {
    throw apiErrors.badRequest(
      `the kind in the data (${String(obj.kind)}) does not match the expected kind (${type.kind})`,
    );
  }
  return obj;
}

/** How a request refuses unknown fields under fieldValidation=Strict, given the decoder's error text. */
export type StrictRefusal = (type: ResourceType, why: string) => ApiError;

/** A POST or PUT body: the decode error is wrapped as `transformDecodeError` words it. */
export const refuseBody: StrictRefusal = (type, why) =>
  apiErrors.badRequest(
    `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${why}`,
  );

/** Go's json.Marshal of a map: keys sorted at every level. */
function goJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (!isObject(value)) return JSON.stringify(value);
  const entries = Object.keys(value)
    .filter((k) => value[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${goJson(value[k])}`);
  return `{${entries.join(',')}}`;
}

/** A JSON or merge patch: a 422 on the field `patch`, whose value is the patched object before pruning. */
export function refusePatch(patched: JsonObject): StrictRefusal {
  const value = goJson(patched);
  return (_type, why) => apiErrors.invalid('', '', '', [fieldError.invalid('patch', value, why)]);
}

/**
 * Prunes and defaults custom resources in place; returns `Warning` texts for pruned fields, in the
 * apiserver's order: root metadata first, then the rest sorted.
 */
export function decodeFields(
  type: ResourceType,
  obj: JsonObject,
  mode: FieldValidation = 'Warn',
  refuse: StrictRefusal = refuseBody,
): string[] {
  if (!type.schema) return [];
  const pruned = type.schema.normalize(obj);
  const meta = pruned.filter((path) => path.startsWith('metadata.'));
  const rest = pruned.filter((path) => !path.startsWith('metadata.')).sort();
  const unknown = [...meta, ...rest].map((path) => `unknown field "${path}"`);
  if (unknown.length > 0 && mode === 'Strict')
    throw refuse(type, `strict decoding error: ${unknown.join(', ')}`);
  return mode === 'Ignore' ? [] : unknown;
}

/** Puts the URL namespace on the object (or clears it for cluster-scoped kinds), refusing a contradiction. */
export function bindNamespace(type: ResourceType, obj: JsonObject, namespace: string | undefined): void {
  const meta = metadataOf(obj);
  if (!type.namespaced) {
    delete meta.namespace;
    return;
  }
  if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
    throw apiErrors.badRequest(NAMESPACE_MISMATCH);
  }
  meta.namespace = namespace;
}

/** For writes to a named URL: the body must name the same object. */
export function bindIdentity(
  type: ResourceType,
  obj: JsonObject,
  namespace: string | undefined,
  name: string,
): void {
  const meta = metadataOf(obj);
  if (meta.name !== name) {
    throw apiErrors.badRequest(
      `the name of the object (${String(meta.name ?? '')}) does not match the name on the URL (${name})`,
    );
  }
  bindNamespace(type, obj, namespace);
}
