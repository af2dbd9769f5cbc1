import type { LogicalType } from './types.js';

export interface LogicalTypeInfo {
  /** The Postgres type as written in DDL. */
  readonly postgresType: string;
  /** The same type as `format_type()` prints it, which is what introspection compares against. */
  readonly formattedType: string;
  /** JSON Schema for one value of this type as a writer row carries it. */
  readonly jsonSchema: Readonly<Record<string, unknown>>;
  /** The catalog's `logicalType` vocabulary (DataHub / OpenMetadata / Unity Catalog intersection). */
  readonly catalogType:
    | 'string'
    | 'integer'
    | 'number'
    | 'boolean'
    | 'date'
    | 'timestamp'
    | 'array'
    | 'object';
}

/** The one mapping from logical to physical types. */
export const LOGICAL_TYPES: Readonly<Record<LogicalType, LogicalTypeInfo>> = Object.freeze({
  string: {
    postgresType: 'text',
    formattedType: 'text',
    jsonSchema: { type: 'string' },
    catalogType: 'string',
  },
  boolean: {
    postgresType: 'boolean',
    formattedType: 'boolean',
    jsonSchema: { type: 'boolean' },
    catalogType: 'boolean',
  },
  integer: {
    postgresType: 'bigint',
    formattedType: 'bigint',
    // bigint exceeds 2^53; accept a safe integer or its decimal string form.
    jsonSchema: { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?[0-9]{1,19}$' }] },
    catalogType: 'integer',
  },
  number: {
    postgresType: 'numeric',
    formattedType: 'numeric',
    jsonSchema: { anyOf: [{ type: 'number' }, { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$' }] },
    catalogType: 'number',
  },
  date: {
    postgresType: 'date',
    formattedType: 'date',
    jsonSchema: { type: 'string', format: 'date' },
    catalogType: 'date',
  },
  timestamp: {
    postgresType: 'timestamptz',
    formattedType: 'timestamp with time zone',
    jsonSchema: { type: 'string', format: 'date-time' },
    catalogType: 'timestamp',
  },
  string_array: {
    postgresType: 'text[]',
    formattedType: 'text[]',
    jsonSchema: { type: 'array', items: { type: 'string' } },
    catalogType: 'array',
  },
  json_object: {
    postgresType: 'jsonb',
    formattedType: 'jsonb',
    jsonSchema: { type: 'object' },
    catalogType: 'object',
  },
});
