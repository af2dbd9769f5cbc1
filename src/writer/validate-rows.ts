import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FieldSpec, LogicalType, ModelSpec } from '../models/index.js';
import type { FieldError } from './errors.js';
import { numericRuleOf, rowFields, rowSchema } from './row-schema.js';
import { normalizeDate, normalizeTimestamp } from './timestamps.js';
import { jsonProblem, type NumericRule, numericProblem, textOrArrayProblem } from './value-checks.js';

/**
 * Row validation: the model's JSON Schema compiled once per model with Ajv, and Ajv's errors turned into
 * one readable reason per field ("must be one of todo, in_progress, done, unknown (got "closed")").
 */

/** Checks one row; returns its field errors, or undefined when the row is valid. */
export type RowValidator = (row: unknown) => FieldError[] | undefined;

function createAjv(): Ajv {
  // allErrors: a worker fixing its mapper wants every bad field of a row at once, not the first.
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictTypes: false,
    allowUnionTypes: true,
    strictNumbers: true,
  });
  ajv.addFormat('date', { type: 'string', validate: (s: string) => normalizeDate(s) !== undefined });
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s: string) => normalizeTimestamp(s) !== undefined,
  });
  ajv.addKeyword({
    keyword: 'cdmJson',
    type: 'object',
    schemaType: 'boolean',
    validate: (_: boolean, data: unknown) => jsonProblem(data, '') === undefined,
  });
  ajv.addKeyword({
    keyword: 'cdmNumeric',
    // Only numbers and decimal strings can be out of range; nulls skip the call.
    type: ['number', 'string'],
    schemaType: 'object',
    validate: (rule: NumericRule, data: unknown) => numericProblem(data, rule) === undefined,
  });
  return ajv;
}

let sharedAjv: Ajv | undefined;
const compiled = new WeakMap<ModelSpec, RowValidator>();

const TYPE_DESCRIPTIONS: Readonly<Record<LogicalType, string>> = {
  string: 'a string',
  boolean: 'a boolean',
  integer: 'an integer (a number or a decimal string)',
  number: 'a number (or a decimal string)',
  date: 'a date string YYYY-MM-DD',
  timestamp: 'an RFC 3339 timestamp string with a time zone',
  string_array: 'an array of strings',
  json_object: 'a JSON object',
};

function shown(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function fieldOf(error: ErrorObject): string {
  if (error.keyword === 'required') return String(error.params.missingProperty);
  if (error.keyword === 'additionalProperties') return String(error.params.additionalProperty);
  const segment = error.instancePath.split('/')[1] ?? '';
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** Keywords whose failure says more than "wrong type", most specific first. */
const SPECIFIC = ['cdmJson', 'cdmNumeric', 'format', 'enum', 'minimum', 'pattern'];

function reasonFor(field: FieldSpec, value: unknown, errors: ErrorObject[]): string {
  const byKeyword = new Map(errors.map((e) => [e.keyword, e]));
  const keyword = SPECIFIC.find((k) => byKeyword.has(k));
  switch (keyword) {
    case 'pattern':
      // On text fields the pattern is TEXT_PATTERN; decimal-string patterns fall through to the type.
      if (field.type === 'string' || field.type === 'string_array') {
        return textOrArrayProblem(value) ?? 'contains characters Postgres cannot store';
      }
      break;
    case 'cdmJson':
      return `must be plain JSON: ${jsonProblem(value, field.name)}`;
    case 'cdmNumeric':
      return numericProblem(value, numericRuleOf(field)) ?? 'is out of range';
    case 'format':
      return field.type === 'date'
        ? `must be a real calendar date YYYY-MM-DD (got ${shown(value)})`
        : `must be a valid RFC 3339 timestamp with a time zone, e.g. 2024-05-01T12:00:00Z (got ${shown(value)})`;
    case 'enum': {
      const allowed = field.check?.kind === 'oneOf' ? field.check.values.join(', ') : 'the allowed values';
      return `must be one of ${allowed}${field.nullable ? ' or null' : ''} (got ${shown(value)})`;
    }
    case 'minimum':
      return `must be >= ${byKeyword.get('minimum')!.params.limit} (got ${shown(value)})`;
  }
  const nested = errors.find((e) => e.instancePath.split('/').length > 2);
  const element = nested?.instancePath.split('/')[2];
  const where =
    element !== undefined && Array.isArray(value)
      ? ` (element ${element} is ${shown(value[Number(element)])})`
      : '';
  return `must be ${TYPE_DESCRIPTIONS[field.type]}${field.nullable ? ' or null' : ''}${where || ` (got ${shown(value)})`}`;
}

/** Groups Ajv's errors by top-level field and gives each field one reason. */
function fieldErrors(
  model: ModelSpec,
  fields: Map<string, FieldSpec>,
  row: unknown,
  errors: ErrorObject[],
): FieldError[] {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    return [{ field: '', reason: `must be an object with the fields of ${model.id} (got ${shown(row)})` }];
  }
  const grouped = new Map<string, ErrorObject[]>();
  for (const error of errors) {
    const name = fieldOf(error);
    grouped.set(name, [...(grouped.get(name) ?? []), error]);
  }
  const managed = new Set(model.fields.filter((f) => f.writerManaged).map((f) => f.name));
  return [...grouped].map(([name, group]): FieldError => {
    if (group.some((e) => e.keyword === 'required')) return { field: name, reason: 'is required' };
    if (group.some((e) => e.keyword === 'additionalProperties')) {
      return {
        field: name,
        reason: managed.has(name)
          ? 'is set by the writer and must not be in the row'
          : `is not a field of ${model.id}`,
      };
    }
    const spec = fields.get(name);
    const value = (row as Record<string, unknown>)[name];
    return {
      field: name,
      reason: spec ? reasonFor(spec, value, group) : (group[0]?.message ?? 'is invalid'),
    };
  });
}

/** The compiled validator of `model`; compiled on first use and cached for the process. */
export function rowValidator(model: ModelSpec): RowValidator {
  const cached = compiled.get(model);
  if (cached) return cached;
  sharedAjv ??= createAjv();
  const validate: ValidateFunction = sharedAjv.compile(rowSchema(model));
  const fields = new Map(rowFields(model).map((f) => [f.name, f]));
  const validator: RowValidator = (row) =>
    validate(row) ? undefined : fieldErrors(model, fields, row, validate.errors ?? []);
  compiled.set(model, validator);
  return validator;
}
