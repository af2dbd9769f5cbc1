import type { ObservedSchema } from '../observed.js';
import { normalizeType } from '../type-names.js';

/**
 * The state of one schema (or of some of its tables) in one round trip, as a single JSON document.
 * Scoped by schema and table names so the cost does not grow with the rest of the database; every catalog table is `pg_catalog`-qualified so a
 * user's search_path cannot shadow it.
 */
export const OBSERVE_SCHEMA_SQL = `
WITH
  -- ordinary and partitioned tables of the schema; only the named ones when $2 is given, so the cost
  -- follows one provision's tables, not every table of a schema many provisions share
  rel AS (
    SELECT c.oid, c.relname::text AS name, pg_catalog.obj_description(c.oid, 'pg_class') AS comment
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND ($2::text[] IS NULL OR c.relname = ANY ($2::text[]))
  ),
  -- live (not dropped) user columns, with their default expression if any
  col AS (
    SELECT a.attrelid, a.attnum, json_build_object(
      'name', a.attname::text,
      'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
      'nullable', NOT a.attnotnull,
      'defaultSql', pg_catalog.pg_get_expr(d.adbin, d.adrelid),
      'comment', pg_catalog.col_description(a.attrelid, a.attnum)
    ) AS doc
    FROM pg_catalog.pg_attribute a
    JOIN rel ON rel.oid = a.attrelid
    LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped
  ),
  -- primary key and check constraints
  con AS (
    SELECT k.conrelid, k.contype, k.conname::text AS name, pg_catalog.pg_get_constraintdef(k.oid) AS definition,
      k.convalidated AS validated,
      ARRAY(
        SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord)
        JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
        ORDER BY u.ord
      ) AS columns
    FROM pg_catalog.pg_constraint k
    JOIN rel ON rel.oid = k.conrelid
    WHERE k.contype IN ('p', 'c')
  ),
  -- indexes with their access method, key columns (NULL for expressions) and validity
  idx AS (
    SELECT i.indrelid, json_build_object(
      'name', ic.relname::text,
      'method', am.amname::text,
      'keyColumns', ARRAY(
        SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS u(attnum, ord)
        LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.attnum AND u.attnum > 0
        WHERE u.ord <= i.indnkeyatts
        ORDER BY u.ord
      ),
      'partial', i.indpred IS NOT NULL,
      'unique', i.indisunique,
      'primary', i.indisprimary,
      'valid', i.indisvalid AND i.indisready,
      'definition', pg_catalog.pg_get_indexdef(i.indexrelid)
    ) AS doc
    FROM pg_catalog.pg_index i
    JOIN rel ON rel.oid = i.indrelid
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_catalog.pg_am am ON am.oid = ic.relam
  )
SELECT json_build_object(
  'exists', EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1),
  'tables', COALESCE((
    SELECT json_agg(json_build_object(
      'name', rel.name,
      'comment', rel.comment,
      'columns', COALESCE((SELECT json_agg(col.doc ORDER BY col.attnum) FROM col WHERE col.attrelid = rel.oid), '[]'),
      'primaryKey', (SELECT json_build_object('name', con.name, 'columns', con.columns)
                     FROM con WHERE con.conrelid = rel.oid AND con.contype = 'p'),
      'checks', COALESCE((SELECT json_agg(json_build_object('name', con.name, 'definition', con.definition, 'validated', con.validated) ORDER BY con.name)
                          FROM con WHERE con.conrelid = rel.oid AND con.contype = 'c'), '[]'),
      'indexes', COALESCE((SELECT json_agg(idx.doc ORDER BY idx.doc->>'name') FROM idx WHERE idx.indrelid = rel.oid), '[]')
    ) ORDER BY rel.name)
    FROM rel
  ), '[]')
) AS state
`;

export interface RawObserveSchemaRow {
  state: Omit<ObservedSchema, 'schema'>;
}

/** Normalises what the query returned into `ObservedSchema`. */
export function parseObserveSchema(schema: string, row: RawObserveSchemaRow): ObservedSchema {
  return {
    schema,
    exists: row.state.exists,
    tables: row.state.tables.map((t) => ({
      ...t,
      columns: t.columns.map((c) => ({ ...c, type: normalizeType(c.type) })),
    })),
  };
}
