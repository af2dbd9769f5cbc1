import { type FieldSpec, type IndexSpec, LOGICAL_TYPES, type ModelSpec } from '../models/index.js';
import { identifierProblem, MAX_IDENTIFIER_BYTES, quoteIdent, quoteLiteral } from './identifiers.js';
import { tableName } from './table-name.js';

/** Where a sink keeps its tables; `sinkId` is `<namespace>/<name>` of the owning provision. */
export interface SinkLayout {
  readonly schema: string;
  readonly tablePrefix: string;
  readonly sinkId: string;
}

export interface ColumnSpec {
  readonly name: string;
  /** Type as written in DDL. */
  readonly type: string;
  /** Type as `format_type()` prints it; what the diff compares. */
  readonly formattedType: string;
  readonly nullable: boolean;
  /** Default as written in DDL and as `pg_get_expr` prints it (we only use forms that round-trip). */
  readonly defaultSql?: string;
  readonly check?: { readonly name: string; readonly sql: string };
  readonly comment: string;
}

export interface TableIndexSpec {
  readonly name: string;
  readonly method: 'btree' | 'gin';
  /** The key list, e.g. `"project_cdm_id", "updated_at" DESC`. */
  readonly keysSql: string;
  /** Column names the keys use, in order (expressions contribute the columns they read). */
  readonly columns: readonly string[];
  /** One entry per key: its column, or `null` for an expression (as introspection reports keys). */
  readonly keyColumns: readonly (string | null)[];
  readonly whereSql?: string;
}

export interface TableSpec {
  readonly kind: 'table';
  readonly schema: string;
  readonly name: string;
  readonly modelId: string;
  readonly modelVersion: string;
  readonly sinkId: string;
  readonly columns: readonly ColumnSpec[];
  readonly primaryKey: { readonly name: string; readonly columns: readonly string[] };
  readonly indexes: readonly TableIndexSpec[];
  /** The model's description, the first part of the table comment of a table we create. */
  readonly description: string;
}

const DEFAULT_SQL: Readonly<Record<NonNullable<FieldSpec['default']>['kind'], string>> = {
  now: 'now()',
  emptyArray: "'{}'::text[]",
  emptyObject: "'{}'::jsonb",
};

function checkSql(field: FieldSpec): string | undefined {
  const check = field.check;
  if (!check) return undefined;
  const column = quoteIdent(field.name);
  switch (check.kind) {
    case 'oneOf':
      return `${column} IN (${check.values.map(quoteLiteral).join(', ')})`;
    case 'minimum':
      return `${column} >= ${check.value}`;
  }
}

function columnSpec(table: string, field: FieldSpec): ColumnSpec {
  const type = LOGICAL_TYPES[field.type];
  const check = checkSql(field);
  return Object.freeze({
    name: field.name,
    type: type.postgresType,
    formattedType: type.formattedType,
    nullable: field.nullable,
    ...(field.default ? { defaultSql: DEFAULT_SQL[field.default.kind] } : {}),
    ...(check ? { check: { name: `${table}_${field.name}_check`, sql: check } } : {}),
    comment: field.description,
  });
}

function indexSpec(table: string, index: IndexSpec): TableIndexSpec {
  const keys = index.keys.map((key) =>
    'column' in key ? `${quoteIdent(key.column)}${key.descending ? ' DESC' : ''}` : `(${key.expression})`,
  );
  return Object.freeze({
    name: `${table}_${index.suffix}`,
    method: index.method,
    keysSql: keys.join(', '),
    columns: index.keys.flatMap((key) => ('column' in key ? [key.column] : key.columns)),
    keyColumns: index.keys.map((key) => ('column' in key ? key.column : null)),
    ...(index.where ? { whereSql: index.where } : {}),
  });
}

/** The model's part of a table comment; the ownership line is added by the plan (see ownership.ts). */
function tableDescription(model: ModelSpec): string {
  return `${model.displayName}: ${model.description}`;
}

/** The desired physical table for one model in one sink (DESIGN.md §3). Pure. */
export function desiredTable(model: ModelSpec, layout: SinkLayout): TableSpec {
  // Specs are frozen values of (model, layout), and every reconcile asks for the same ones again.
  const key = `${layout.schema}\u0000${layout.tablePrefix}\u0000${layout.sinkId}`;
  const byLayout = specCache.get(model) ?? new Map<string, TableSpec>();
  specCache.set(model, byLayout);
  const spec = byLayout.get(key) ?? buildTable(model, layout);
  byLayout.set(key, spec);
  return spec;
}

const specCache = new WeakMap<ModelSpec, Map<string, TableSpec>>();

function buildTable(model: ModelSpec, layout: SinkLayout): TableSpec {
  const name = tableName(model.id, layout.tablePrefix);
  return Object.freeze({
    kind: 'table',
    schema: layout.schema,
    name,
    modelId: model.id,
    modelVersion: model.version,
    sinkId: layout.sinkId,
    columns: Object.freeze(model.fields.map((f) => columnSpec(name, f))),
    primaryKey: {
      name: `${name}_pkey`,
      columns: model.fields.filter((f) => f.primaryKey).map((f) => f.name),
    },
    indexes: Object.freeze(model.indexes.map((i) => indexSpec(name, i))),
    description: tableDescription(model),
  });
}

/** Every name a table spec makes Postgres store: table, key, checks and indexes. */
export function generatedNames(table: TableSpec): string[] {
  return [
    table.name,
    table.primaryKey.name,
    ...table.columns.flatMap((c) => (c.check ? [c.check.name] : [])),
    ...table.indexes.map((i) => i.name),
  ];
}

export interface NameProblem {
  readonly name: string;
  readonly problem: 'pattern' | 'length';
  readonly bytes: number;
}

/** Names that Postgres would reject or silently truncate; empty when the layout is usable. */
export function nameProblems(table: TableSpec): NameProblem[] {
  return generatedNames(table).flatMap((name) => {
    const problem = identifierProblem(name);
    return problem ? [{ name, problem, bytes: Buffer.byteLength(name) }] : [];
  });
}

export { MAX_IDENTIFIER_BYTES };
