import { createHash } from 'node:crypto';
import type { ModelSpec } from '../models/index.js';
import { tableName } from '../postgres/table-name.js';
import type { PrepareRow } from './batches.js';
import { lineColumns } from './encode-row.js';
import type { TableStatements } from './execute-batch.js';
import { DEFAULT_ROW_LIMITS, type RowLimits, rowPreparer } from './prepare-row.js';
import { compileWriteStatements } from './upsert-sql.js';

/**
 * Everything the writer needs for one model in one sink, compiled once: the table, its SQL and the row
 * preparation (validate, then canonicalise and hash).
 */
export interface ModelTarget {
  readonly model: ModelSpec;
  readonly schema: string;
  readonly table: string;
  readonly statements: TableStatements;
  readonly prepare: PrepareRow;
}

/** Prepared-statement name derived from the SQL text, so each connection prepares each text once. */
function statementName(kind: string, sql: string): string {
  return `cdm_writer_${kind}_${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`;
}

export function compileModelTarget(
  model: ModelSpec,
  schema: string,
  tablePrefix: string,
  limits: RowLimits = DEFAULT_ROW_LIMITS,
): ModelTarget {
  const table = tableName(model.id, tablePrefix);
  const fields = lineColumns(model);
  const versionColumn = fields.some((f) => f.name === 'updated_at' && f.type === 'timestamp')
    ? 'updated_at'
    : undefined;
  const sql = compileWriteStatements({ schema, name: table }, fields, versionColumn);
  const prepare = rowPreparer(model, limits);
  return Object.freeze({
    model,
    schema,
    table,
    statements: {
      ...sql,
      lookupName: statementName('lookup', sql.lookup),
      upsertName: statementName('upsert', sql.upsert),
    },
    prepare,
  });
}
