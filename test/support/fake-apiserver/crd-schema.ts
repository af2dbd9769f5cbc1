/**
 * One CRD version's schema: prune and default a decoded object, then validate it and report errors the way
 * the apiextensions-apiserver words them (`spec.size: Unsupported value: "huge": supported values: ...`).
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { compileStructuralSchema } from './ajv-schema.js';
import { type FieldError, fieldError } from './field-errors.js';
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
      return fieldError.invalid(path, actual, `${where} in body must be of type ${expected}: "${actual}"`);
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
      return fieldError.invalid(path, data, `${where} in body should have at most ${limit} properties`);
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

export class CrdSchema {
  private readonly validator: ValidateFunction;

  constructor(readonly schema: SchemaProps) {
    this.validator = compileStructuralSchema(schema);
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
      for (const e of this.validator.errors ?? []) if (!isBranchError(e)) errors.push(toFieldError(e, obj));
    }
    errors.push(...listTypeViolations(obj, this.schema));
    return errors;
  }
}
