/**
 * One CRD version's schema: prune and default a decoded object, then validate it and report errors the way
 * the apiextensions-apiserver words them (`spec.size: Unsupported value: "huge": supported values: ...`).
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { compileStructuralSchema } from './ajv-schema.js';
import { CelRules } from './cel-rules.js';
import { type FieldError, type FieldErrorType, fieldError } from './field-errors.js';
import { isObject, type JsonObject, jsonTypeName } from './json.js';
import {
  applyDefaults,
  childPath,
  indexPath,
  listTypeViolations,
  pruneUnknownFields,
  type SchemaProps,
} from './structural-schema.js';

/** Decodes a JSON pointer into a kube field path (`/spec/items/0/name` → `spec.items[0].name`). */
function fieldPath(pointer: string, root: unknown): string {
  if (!pointer) return '';
  let path = '';
  let current: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      path = indexPath(path, Number(segment));
      current = current[Number(segment)];
    } else {
      path = childPath(path, segment);
      current = isObject(current) ? current[segment] : undefined;
    }
  }
  return path;
}

/** Errors inside an anyOf/oneOf/not branch only explain the combinator's own error, which is reported. */
function isBranchError(error: ErrorObject): boolean {
  return /\/(anyOf|oneOf|not)\//.test(error.schemaPath);
}

function toFieldError(error: ErrorObject, root: unknown): FieldError {
  const path = fieldPath(error.instancePath, root);
  const where = path || '<root>';
  const data: unknown = error.data;
  const params = error.params as Record<string, unknown>;
  const limit = params.limit;
  switch (error.keyword) {
    case 'required':
      return fieldError.required(childPath(path, String(params.missingProperty)));
    case 'type': {
      const expected = String(params.type)
        .split(',')
        .filter((t) => t !== 'null')
        .join(',');
      const actual = jsonTypeName(data);
      return fieldError.typeInvalid(
        path,
        actual,
        `${where} in body must be of type ${expected}: "${actual}"`,
      );
    }
    case 'enum':
      return fieldError.notSupported(path, data, (params.allowedValues as unknown[]) ?? []);
    case 'pattern':
      return fieldError.invalid(path, data, `${where} in body should match '${String(params.pattern)}'`);
    case 'minLength':
      return fieldError.invalid(path, data, `${where} in body should be at least ${limit} chars long`);
    case 'maxLength':
      return fieldError.tooLong(path, Number(limit));
    case 'minimum':
      return fieldError.invalid(path, data, `${where} in body should be greater than or equal to ${limit}`);
    case 'exclusiveMinimum':
      return fieldError.invalid(path, data, `${where} in body should be greater than ${limit}`);
    case 'maximum':
      return fieldError.invalid(path, data, `${where} in body should be less than or equal to ${limit}`);
    case 'exclusiveMaximum':
      return fieldError.invalid(path, data, `${where} in body should be less than ${limit}`);
    case 'multipleOf':
      return fieldError.invalid(path, data, `${where} in body should be a multiple of ${params.multipleOf}`);
    case 'minItems':
      return fieldError.invalid(
        path,
        Array.isArray(data) ? data.length : data,
        `${where} in body should have at least ${limit} items`,
      );
    case 'maxItems':
      return fieldError.tooMany(path, Array.isArray(data) ? data.length : 0, Number(limit));
    case 'minProperties':
      return fieldError.invalid(path, data, `${where} in body should have at least ${limit} properties`);
    case 'maxProperties':
      return fieldError.tooMany(path, isObject(data) ? Object.keys(data).length : 0, Number(limit));
    case 'uniqueItems':
      return fieldError.duplicate(
        indexPath(path, Number(params.j)),
        Array.isArray(data) ? data[Number(params.j)] : data,
      );
    case 'format':
      return fieldError.invalid(
        path,
        data,
        `${where} in body must be of type ${String(params.format)}: ${JSON.stringify(data)}`,
      );
    case 'anyOf':
      return fieldError.invalid(path, data, `${where} in body must validate at least one schema (anyOf)`);
    case 'oneOf':
      return fieldError.invalid(path, data, `${where} in body must validate one and only one schema (oneOf)`);
    case 'not':
      return fieldError.invalid(path, data, `${where} in body must not validate the schema (not)`);
    default:
      return fieldError.invalid(path, data, `${where} in body ${error.message ?? 'is invalid'}`);
  }
}

/** Where kube-openapi's SchemaValidator reports a keyword among the validators it runs on one node. */
const KEYWORD_SLOT: Record<string, readonly number[]> = {
  type: [0],
  allOf: [1, 0],
  anyOf: [1, 1],
  oneOf: [1, 2],
  not: [1, 3],
  maxLength: [2, 0],
  minLength: [2, 1],
  pattern: [2, 2],
  format: [3],
  multipleOf: [4, 0],
  maximum: [4, 1],
  exclusiveMaximum: [4, 1],
  minimum: [4, 2],
  exclusiveMinimum: [4, 2],
  minItems: [5, 1],
  maxItems: [5, 2],
  uniqueItems: [5, 3],
  enum: [6],
  minProperties: [7, 0],
  maxProperties: [7, 1],
  required: [7, 4],
};
/** Array items are checked inside the slice validator, before its own bounds. */
const ITEMS_SLOT = [5, 0];
/** The object validator checks additionalProperties, then properties, then required. */
const ADDITIONAL_SLOT = [7, 2];
const PROPERTIES_SLOT = [7, 3];

/**
 * Sort key giving kube-openapi's report order: depth-first along the value, each node's validators in
 * SchemaValidator order. Sibling properties come in schema order (the apiserver's is Go map order, random).
 */
function reportOrder(error: ErrorObject, root: unknown, schema: SchemaProps): number[] {
  const key: number[] = [];
  let value: unknown = root;
  let node: SchemaProps | undefined = schema;
  for (const raw of error.instancePath ? error.instancePath.slice(1).split('/') : []) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(value)) {
      key.push(...ITEMS_SLOT, Number(segment));
      value = value[Number(segment)];
      node = node?.items;
      continue;
    }
    const properties: Record<string, SchemaProps> = node?.properties ?? {};
    const names = Object.keys(properties);
    if (names.includes(segment)) {
      key.push(...PROPERTIES_SLOT, names.indexOf(segment));
      node = properties[segment];
    } else {
      key.push(...ADDITIONAL_SLOT, isObject(value) ? Object.keys(value).indexOf(segment) : 0);
      node = isObject(node?.additionalProperties) ? (node.additionalProperties as SchemaProps) : undefined;
    }
    value = isObject(value) ? value[segment] : undefined;
  }
  key.push(...(KEYWORD_SLOT[error.keyword] ?? [8]));
  if (error.keyword === 'required') {
    const required = Array.isArray(node?.required) ? (node.required as string[]) : [];
    key.push(required.indexOf(String((error.params as { missingProperty?: string }).missingProperty)));
  }
  return key;
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

const STRING_KEYWORDS = new Set(['maxLength', 'minLength', 'pattern']);

/** kube-openapi's string validator stops at its first failure (maxLength, minLength, then pattern). */
function firstStringErrorOnly(errors: readonly ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    if (!STRING_KEYWORDS.has(e.keyword)) return true;
    if (seen.has(e.instancePath)) return false;
    seen.add(e.instancePath);
    return true;
  });
}

/** Error types after which the apiserver skips CEL rules (`hasBlockingErr` in the CR strategy). */
const BLOCKING: ReadonlySet<FieldErrorType> = new Set([
  'NotSupported',
  'Required',
  'TooLong',
  'TooMany',
  'TypeInvalid',
]);

const RULES_NOT_CHECKED: FieldError = {
  type: 'Invalid',
  field: '<nil>',
  value: null,
  detail:
    'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
};

export class CrdSchema {
  private readonly validator: ValidateFunction;
  private readonly rules: CelRules | undefined;

  constructor(readonly schema: SchemaProps) {
    this.validator = compileStructuralSchema(schema);
    this.rules = CelRules.of(schema);
  }

  /** Prunes unknown fields and applies defaults in place; returns the pruned paths for Strict/Warn reporting. */
  normalize(obj: JsonObject): string[] {
    const unknown = pruneUnknownFields(obj, this.schema);
    applyDefaults(obj, this.schema);
    return unknown;
  }

  validate(obj: JsonObject): FieldError[] {
    const errors: FieldError[] = [];
    if (!this.validator(obj)) {
      const reported = (this.validator.errors ?? [])
        .filter((e) => !isBranchError(e))
        .map((e) => ({ e, key: reportOrder(e, obj, this.schema) }))
        .sort((a, b) => compareKeys(a.key, b.key))
        .map(({ e }) => e);
      for (const e of firstStringErrorOnly(reported)) errors.push(toFieldError(e, obj));
    }
    errors.push(...listTypeViolations(obj, this.schema));
    return errors;
  }

  /**
   * The `x-kubernetes-validations` rules, run last: when `prior` (every error found before them) holds a
   * blocking one, they are skipped with a notice instead, as the apiserver does.
   */
  validateRules(obj: JsonObject, old: JsonObject | undefined, prior: readonly FieldError[]): FieldError[] {
    if (!this.rules) return [];
    if (prior.some((e) => BLOCKING.has(e.type))) return [RULES_NOT_CHECKED];
    return this.rules.validate(obj, old);
  }
}
