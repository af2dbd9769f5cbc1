import type { FieldSpec, LogicalType } from '../models/index.js';
import { qualified, quoteIdent } from '../postgres/identifiers.js';

/**
 * The three statements the writer runs against one table, compiled once per table. Pure: names in,
 * SQL out; every name goes through `quoteIdent`. No statement takes one parameter per value, so the
 * 65,535 bind-parameter limit never applies (unnest takes one array per column, whatever the rows).
 */
export interface WriteStatements {
  /** Stored hash and version of a batch's keys: `$1 text[]` of `cdm_id`s. */
  readonly lookup: string;
  /** `COPY … FROM STDIN` (text format) of new rows straight into the table; `synced_at` takes its default. */
  readonly copy: string;
  /**
   * Set-based upsert of changed rows (and of new ones after a COPY conflict): one `$n` array per
   * column, `_row_hash` last. Its `WHERE` is a safety net for rows a concurrent writer changed between
   * the lookup and this statement: identical content (and hash) is not rewritten, older data never
   * replaces newer. Returns `cdm_id` and `inserted` (true for a new row) of each row it wrote; a row
   * missing from the result is one the `WHERE` kept.
   */
  readonly upsert: string;
  /** Content columns in parameter / COPY order (`_row_hash` follows them). */
  readonly columns: readonly string[];
}

/** Array type each column's values travel as in the unnest upsert. */
const UNNEST_TYPES: Readonly<Record<LogicalType, string>> = {
  string: 'text[]',
  boolean: 'boolean[]',
  integer: 'bigint[]',
  number: 'numeric[]',
  date: 'date[]',
  timestamp: 'timestamptz[]',
  // unnest flattens multi-dimensional arrays, so each row's text[] travels as one array literal.
  string_array: 'text[]',
  json_object: 'jsonb[]',
};

/** `to_char` pattern giving the same fixed-width UTC form as `normalizeTimestamp`. */
const CANONICAL_TIMESTAMP = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

export interface TableRef {
  readonly schema: string;
  readonly name: string;
}

/**
 * Compiles the statements for `table` whose content columns are `fields` (no writer-managed ones).
 * `versionColumn` (`updated_at`) enables "newer data wins": a stored row with a later version is kept, and
 * so is a stored row with a version when the incoming one has none (the order of `replacesVersion`).
 *
 * ```ts
 * compileWriteStatements({ schema: 'cdm_work', name: 'cdm_work_item' }, lineColumns(WORK_ITEM), 'updated_at')
 * ```
 * ```sql
 * INSERT INTO "cdm_work"."cdm_work_item" AS t ("cdm_id", "properties", "source_system", …, "_row_hash")
 * SELECT u."cdm_id", u."properties", u."source_system", …, u."labels"::text[], …, u."_row_hash"
 * FROM unnest($1::text[], $2::jsonb[], $3::text[], …) AS u("cdm_id", "properties", …, "_row_hash")
 * ON CONFLICT ("cdm_id") DO UPDATE SET "properties" = EXCLUDED."properties", …,
 *   "synced_at" = CASE WHEN (t."properties", …) IS DISTINCT FROM (EXCLUDED."properties", …)
 *                 THEN now() ELSE t."synced_at" END
 * WHERE (t."properties", …, t."_row_hash") IS DISTINCT FROM (EXCLUDED."properties", …, EXCLUDED."_row_hash")
 *   AND (t."updated_at" IS NULL OR t."updated_at" <= EXCLUDED."updated_at")
 * RETURNING t."cdm_id" AS cdm_id, (t.xmax = 0) AS inserted
 * ```
 */
export function compileWriteStatements(
  table: TableRef,
  fields: readonly FieldSpec[],
  versionColumn: string | undefined,
): WriteStatements {
  const target = qualified(table.schema, table.name);
  const columns = fields.map((f) => f.name);
  const all = [...columns, '_row_hash'].map(quoteIdent);
  const key = quoteIdent('cdm_id');
  const content = columns.filter((c) => c !== 'cdm_id').map(quoteIdent);
  const version = versionColumn ? quoteIdent(versionColumn) : undefined;

  const lookup =
    `SELECT t.${key} AS cdm_id, t."_row_hash" AS hash, ` +
    (version ? `to_char(t.${version} AT TIME ZONE 'UTC', ${CANONICAL_TIMESTAMP})` : 'NULL::text') +
    ` AS version FROM ${target} AS t WHERE t.${key} = ANY($1::text[])`;

  const copy = `COPY ${target} (${all.join(', ')}) FROM STDIN`;

  const arrays = [...fields.map((f) => UNNEST_TYPES[f.type]), 'text[]'].map(
    (type, i) => `$${i + 1}::${type}`,
  );
  const selected = [
    ...fields.map((f) => `u.${quoteIdent(f.name)}${f.type === 'string_array' ? '::text[]' : ''}`),
    'u."_row_hash"',
  ];
  const tuple = (alias: string, cols: readonly string[]) =>
    `(${cols.map((c) => `${alias}.${c}`).join(', ')})`;
  const changed = `${tuple('t', content)} IS DISTINCT FROM ${tuple('EXCLUDED', content)}`;
  const guard = [
    // The safety net: even when a concurrent writer got there first, an identical row is not rewritten.
    `${tuple('t', [...content, '"_row_hash"'])} IS DISTINCT FROM ${tuple('EXCLUDED', [...content, '"_row_hash"'])}`,
    // Newer data wins, as `replacesVersion` decides client-side: a re-delivered older version never
    // replaces a newer stored one, nor does a row without a version (NULL here leaves the row alone).
    ...(version ? [`(t.${version} IS NULL OR t.${version} <= EXCLUDED.${version})`] : []),
  ];
  const upsert =
    `INSERT INTO ${target} AS t (${all.join(', ')})\n` +
    `SELECT ${selected.join(', ')}\n` +
    `FROM unnest(${arrays.join(', ')}) AS u(${all.join(', ')})\n` +
    `ON CONFLICT (${key}) DO UPDATE SET ${[...content, '"_row_hash"'].map((c) => `${c} = EXCLUDED.${c}`).join(', ')},\n` +
    // synced_at moves only on a real content change, not when only the stored hash is repaired.
    `  "synced_at" = CASE WHEN ${changed} THEN now() ELSE t."synced_at" END\n` +
    `WHERE ${guard.join('\n  AND ')}\n` +
    // The key of every row written, so the rows the guard kept can be told apart (and re-read).
    `RETURNING t.${key} AS cdm_id, (t.xmax = 0) AS inserted`;

  return { lookup, copy, upsert, columns };
}
