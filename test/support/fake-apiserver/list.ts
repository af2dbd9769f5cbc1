/**
 * LIST semantics: selectors, `limit`/`continue` pagination over a consistent snapshot (the continue token
 * pins the revision of the first page, like etcd), `resourceVersionMatch=Exact`, and 410 once compacted.
 */
import { isObject, type JsonObject } from './json.js';
import {
  apiVersionOf,
  asVersion,
  fieldLabelsOf,
  fieldValueOf,
  type ResourceType,
  storageKeyOf,
} from './resource-type.js';
import { FieldSelector, LabelSelector } from './selectors.js';
import { apiErrors } from './status-errors.js';
import { type ObjectStore, objectKey } from './store.js';

export interface ListQuery {
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  readonly limit?: string | undefined;
  readonly continue?: string | undefined;
  readonly resourceVersion?: string | undefined;
  readonly resourceVersionMatch?: string | undefined;
}

interface ContinueToken {
  readonly rv: number;
  /** Exclusive lower bound on the object key for the next page. */
  readonly start: string;
}

const EXPIRED_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list ' +
  'without the continue parameter, or use the continue token in this response to retrieve the remainder of the ' +
  'results. Continuing with the provided token results in an inconsistent list - objects that were created, ' +
  'modified, or deleted between the time the first chunk was returned and now may show up in the list.';

function encodeToken(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: token.rv, start: token.start })).toString(
    'base64',
  );
}

function decodeToken(raw: string): ContinueToken {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
    if (
      isObject(parsed) &&
      parsed.v === 'meta.k8s.io/v1' &&
      typeof parsed.rv === 'number' &&
      typeof parsed.start === 'string'
    ) {
      return { rv: parsed.rv, start: parsed.start };
    }
  } catch {
    // fall through to the apiserver's error
  }
  throw apiErrors.badRequest(
    'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
  );
}

export function parseResourceVersion(raw: string): number {
  if (!/^\d+$/.test(raw)) throw apiErrors.badRequest(`invalid resource version: ${raw}`);
  return Number(raw);
}

export function keyOf(obj: JsonObject): string {
  const meta = obj.metadata as JsonObject;
  return objectKey(meta.namespace as string | undefined, String(meta.name));
}

/** Builds the predicate shared by list and watch: namespace scope plus label and field selectors. */
export function objectMatcher(
  type: ResourceType,
  namespace: string | undefined,
  labelSelector: string | undefined,
  fieldSelector: FieldSelector | string | undefined,
): (obj: JsonObject) => boolean {
  const labels = LabelSelector.parse(labelSelector);
  const fields =
    fieldSelector instanceof FieldSelector
      ? fieldSelector
      : FieldSelector.parse(fieldSelector, fieldLabelsOf(type));
  return (obj) => {
    const meta = obj.metadata as JsonObject;
    if (namespace !== undefined && type.namespaced && meta.namespace !== namespace) return false;
    return (
      labels.matches(meta.labels as Record<string, unknown> | undefined) &&
      fields.matches((f) => fieldValueOf(obj, f))
    );
  };
}

/** Built-in typed lists omit TypeMeta on items; unstructured (custom resource) lists keep it. */
function listItem(obj: JsonObject, type: ResourceType): JsonObject {
  if (type.isCustomResource) return asVersion(obj, type);
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

export function listObjects(
  store: ObjectStore,
  type: ResourceType,
  namespace: string | undefined,
  query: ListQuery,
): JsonObject {
  const storageKey = storageKeyOf(type);
  const scope = type.namespaced ? namespace : undefined;
  const matches = objectMatcher(type, namespace, query.labelSelector, query.fieldSelector);
  const current = store.currentRevision;
  let rv = current;
  let candidates: JsonObject[];
  if (query.continue) {
    const token = decodeToken(query.continue);
    rv = token.rv;
    const snapshot = store.snapshotAt(storageKey, rv, scope);
    if (!snapshot) throw apiErrors.expired(EXPIRED_CONTINUE);
    candidates = snapshot.filter((obj) => keyOf(obj) > token.start);
  } else if (query.resourceVersion && query.resourceVersion !== '0') {
    const requested = parseResourceVersion(query.resourceVersion);
    if (requested > current)
      throw apiErrors.timeout(`Too large resource version: ${requested}, current: ${current}`);
    if (query.resourceVersionMatch === 'Exact') {
      const snapshot = store.snapshotAt(storageKey, requested, scope);
      if (!snapshot) {
        throw apiErrors.expired(`too old resource version: ${requested} (${store.historyStart(storageKey)})`);
      }
      rv = requested;
      candidates = snapshot;
    } else {
      candidates = store.list(storageKey, scope);
    }
  } else {
    candidates = store.list(storageKey, scope);
  }
  const selected = candidates.filter(matches);
  const limit = query.limit ? Number.parseInt(query.limit, 10) : 0;
  const metadata: JsonObject = { resourceVersion: String(rv) };
  let page = selected;
  if (limit > 0 && selected.length > limit) {
    page = selected.slice(0, limit);
    const last = page[page.length - 1];
    if (last) metadata.continue = encodeToken({ rv, start: `${keyOf(last)}\u0000` });
    if (!query.labelSelector && !query.fieldSelector) metadata.remainingItemCount = selected.length - limit;
  }
  return {
    apiVersion: apiVersionOf(type),
    kind: type.listKind,
    metadata,
    items: page.map((obj) => listItem(obj, type)),
  };
}
