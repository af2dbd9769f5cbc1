/**
 * The vocabulary the CDM models are written in. Everything physical (DDL, the writer's row schema, the
 * catalog's schema document) is derived from these plain values, so a model is edited in one place.
 */

/** Logical column types; `logical-types.ts` maps each to exactly one Postgres type and one JSON type. */
export type LogicalType =
  | 'string'
  | 'boolean'
  | 'integer'
  | 'number'
  | 'date'
  | 'timestamp'
  | 'string_array'
  | 'json_object';

/** A value constraint that becomes both a SQL `CHECK` and a JSON Schema keyword. */
export type FieldCheck =
  | { readonly kind: 'oneOf'; readonly values: readonly string[] }
  | { readonly kind: 'minimum'; readonly value: number };

/** A column default, as trusted SQL written in this repository (never user input). */
export type FieldDefault =
  | { readonly kind: 'now' }
  | { readonly kind: 'emptyArray' }
  | { readonly kind: 'emptyObject' };

export interface FieldSpec {
  readonly name: string;
  readonly type: LogicalType;
  readonly nullable: boolean;
  readonly description: string;
  readonly default?: FieldDefault;
  readonly check?: FieldCheck;
  readonly primaryKey?: boolean;
  /** Set by the writer, not by the rows it receives (`synced_at`, `_row_hash`). */
  readonly writerManaged?: boolean;
  /** `<role>_cdm_id` fields name the model they point at; no foreign key is created (rows arrive in any order). */
  readonly references?: string;
}

/** One key of an index: a column, or a trusted SQL expression such as `lower(email)`. */
export type IndexKey =
  | { readonly column: string; readonly descending?: boolean }
  | { readonly expression: string; readonly columns: readonly string[] };

export interface IndexSpec {
  /** Appended to the table name to form the index name: `<table>_<suffix>`. */
  readonly suffix: string;
  readonly method: 'btree' | 'gin';
  readonly keys: readonly IndexKey[];
  /** Partial index predicate, trusted SQL over this model's columns. */
  readonly where?: string;
}

export interface ModelSpec {
  readonly id: string;
  /** Semantic version; adding a field bumps the minor version and must plan as an additive change. */
  readonly version: string;
  readonly displayName: string;
  readonly description: string;
  /** Fields in column order, plumbing columns included. */
  readonly fields: readonly FieldSpec[];
  readonly indexes: readonly IndexSpec[];
}
