/** What the fake knows about one served group/version/resource, built-in or from a CRD. */
import type { CrdSchema } from './crd-schema.js';
import type { FieldError } from './field-errors.js';
import { isObject, type JsonObject, readPath } from './json.js';
import type { NameRule } from './object-meta.js';
import type { GroupResource } from './status-errors.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export const ALL_VERBS: readonly Verb[] = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];

export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly Verb[];
  /** True when `/status` is served and the main endpoint ignores `.status`. */
  readonly statusSubresource: boolean;
  /** Only kinds whose strategy sets `metadata.generation` (all custom resources; few built-ins) track it. */
  readonly tracksGeneration: boolean;
  /** Whether PUT may omit metadata.resourceVersion; custom resources require it. */
  readonly allowUnconditionalUpdate: boolean;
  readonly isCustomResource: boolean;
  readonly nameRule: NameRule;
  /** Field selector labels beyond metadata.name / metadata.namespace. */
  readonly extraFieldLabels: readonly string[];
  /** Present for custom resources: pruning, defaulting and validation for this version. */
  readonly schema?: CrdSchema;
  /** Kind-specific normalisation before validation (e.g. Secret `stringData` → `data`). */
  readonly normalize?: (obj: JsonObject, old: JsonObject | undefined) => void;
  /** Kind-specific validation beyond ObjectMeta and the CRD schema. */
  readonly validate?: (obj: JsonObject, old: JsonObject | undefined) => FieldError[];
}

export function apiVersionOf(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** All versions of one group/resource share a single storage collection, as they share one etcd prefix. */
export function storageKeyOf(type: Pick<ResourceType, 'group' | 'plural'>): string {
  return `${type.group}/${type.plural}`;
}

export function groupResourceOf(type: ResourceType): GroupResource {
  return { group: type.group, plural: type.plural };
}

export function fieldLabelsOf(type: ResourceType): string[] {
  const labels = ['metadata.name', ...type.extraFieldLabels];
  if (type.namespaced) labels.push('metadata.namespace');
  return labels;
}

/** The string a field selector compares against; absent fields compare as the empty string. */
export function fieldValueOf(obj: JsonObject, field: string): string {
  const value = readPath(obj, field);
  if (value === undefined || value === null || isObject(value) || Array.isArray(value)) return '';
  return String(value);
}

/** Serves a stored object as the requested version; no conversion beyond apiVersion, like `strategy: None`. */
export function asVersion(obj: JsonObject, type: ResourceType): JsonObject {
  const apiVersion = apiVersionOf(type);
  return obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
}
