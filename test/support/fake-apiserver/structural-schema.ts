/**
 * The parts of CRD structural-schema semantics that JSON Schema has no keyword for: pruning unknown fields,
 * defaulting, and `x-kubernetes-list-type` uniqueness. They run on the decoded object before Ajv validates it,
 * in the apiserver's order (prune, default, validate).
 */
import { type FieldError, fieldError } from './field-errors.js';
import { clone, deepEqual, isObject, type JsonObject } from './json.js';
import { OBJECT_META_FIELDS } from './object-meta.js';

/** `JSONSchemaProps` as it appears in a CRD's `openAPIV3Schema`. */
export interface SchemaProps {
  type?: string;
  properties?: Record<string, SchemaProps>;
  additionalProperties?: SchemaProps | boolean;
  items?: SchemaProps;
  default?: unknown;
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-list-map-keys'?: string[];
  [keyword: string]: unknown;
}

export function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export function indexPath(path: string, index: number): string {
  return `${path}[${index}]`;
}

function pruneMetadata(meta: unknown, path: string, unknown: string[]): void {
  if (!isObject(meta)) return;
  for (const key of Object.keys(meta)) {
    if (!OBJECT_META_FIELDS.has(key)) {
      delete meta[key];
      unknown.push(childPath(path, key));
    }
  }
}

function pruneNode(value: unknown, schema: SchemaProps, path: string, unknown: string[]): void {
  if (schema['x-kubernetes-int-or-string']) return;
  if (Array.isArray(value)) {
    const items = schema.items;
    if (items)
      value.forEach((item, i) => {
        pruneNode(item, items, indexPath(path, i), unknown);
      });
    return;
  }
  if (!isObject(value)) return;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  const properties = schema.properties ?? {};
  const additional = schema.additionalProperties;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true || additional === true;
  for (const key of Object.keys(value)) {
    const here = childPath(path, key);
    if (embedded && (key === 'apiVersion' || key === 'kind')) continue;
    if (embedded && key === 'metadata' && !properties.metadata) {
      pruneMetadata(value[key], here, unknown);
      continue;
    }
    const child = Object.hasOwn(properties, key)
      ? properties[key]
      : isObject(additional)
        ? additional
        : undefined;
    if (child) pruneNode(value[key], child, here, unknown);
    else if (!preserve) {
      delete value[key];
      unknown.push(here);
    }
  }
}

/**
 * Removes fields the schema does not declare (unless preserved) and returns their paths, which
 * `fieldValidation=Strict|Warn` report. `apiVersion`, `kind` and ObjectMeta are always kept at the root.
 */
export function pruneUnknownFields(obj: JsonObject, schema: SchemaProps): string[] {
  const unknown: string[] = [];
  const properties = { ...schema.properties };
  delete properties.apiVersion;
  delete properties.kind;
  delete properties.metadata;
  // The root behaves like an embedded resource: apiVersion/kind kept, metadata decoded as ObjectMeta.
  pruneNode(obj, { ...schema, properties, 'x-kubernetes-embedded-resource': true }, '', unknown);
  return unknown;
}

function defaultNode(value: unknown, schema: SchemaProps): void {
  if (Array.isArray(value)) {
    const items = schema.items;
    if (items) for (const item of value) defaultNode(item, items);
    return;
  }
  if (!isObject(value)) return;
  const properties = schema.properties ?? {};
  for (const [key, child] of Object.entries(properties)) {
    const missing = !Object.hasOwn(value, key) || (value[key] === null && !child.nullable);
    if (missing && child.default !== undefined) value[key] = clone(child.default);
    if (Object.hasOwn(value, key)) defaultNode(value[key], child);
  }
  const additional = schema.additionalProperties;
  if (isObject(additional)) {
    for (const [key, item] of Object.entries(value))
      if (!Object.hasOwn(properties, key)) defaultNode(item, additional);
  }
}

/** Applies `default`s where a field is absent (or null without `nullable`), including inside defaulted objects. */
export function applyDefaults(obj: JsonObject, schema: SchemaProps): void {
  const properties = { ...schema.properties };
  delete properties.metadata;
  defaultNode(obj, { ...schema, properties });
}

function listTypeErrors(value: unknown, schema: SchemaProps, path: string, errors: FieldError[]): void {
  if (Array.isArray(value)) {
    const listType = schema['x-kubernetes-list-type'];
    if (listType === 'set') {
      value.forEach((item, i) => {
        if (value.slice(0, i).some((earlier) => deepEqual(earlier, item))) {
          errors.push(fieldError.duplicate(indexPath(path, i), item));
        }
      });
    } else if (listType === 'map') {
      const keys = schema['x-kubernetes-list-map-keys'] ?? [];
      const seen: JsonObject[] = [];
      value.forEach((item, i) => {
        if (!isObject(item)) return;
        const identity: JsonObject = {};
        for (const k of keys) identity[k] = item[k];
        if (seen.some((s) => deepEqual(s, identity)))
          errors.push(fieldError.duplicate(indexPath(path, i), identity));
        seen.push(identity);
      });
    }
    const items = schema.items;
    if (items)
      value.forEach((item, i) => {
        listTypeErrors(item, items, indexPath(path, i), errors);
      });
    return;
  }
  if (!isObject(value)) return;
  const properties = schema.properties ?? {};
  const additional = schema.additionalProperties;
  for (const [key, item] of Object.entries(value)) {
    const child = Object.hasOwn(properties, key)
      ? properties[key]
      : isObject(additional)
        ? additional
        : undefined;
    if (child) listTypeErrors(item, child, childPath(path, key), errors);
  }
}

/** Duplicate entries in `x-kubernetes-list-type: set` lists and duplicate keys in `map` lists. */
export function listTypeViolations(obj: JsonObject, schema: SchemaProps): FieldError[] {
  const errors: FieldError[] = [];
  listTypeErrors(obj, schema, '', errors);
  return errors;
}
