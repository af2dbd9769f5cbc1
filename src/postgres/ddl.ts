import { qualified, quoteIdent, quoteLiteral } from './identifiers.js';
import type { Statement } from './statement.js';
import type { ColumnSpec, TableIndexSpec, TableSpec } from './table-spec.js';

/**
 * SQL generation, one function per statement kind. Pure: specs in, statements out. Every statement is
 * idempotent (`IF NOT EXISTS`), so a replay after a crash or a race with another applier is harmless.
 */

export function createSchema(schema: string): Statement {
  return { sql: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`, transactional: true, hazards: [] };
}

function columnDefinition(column: ColumnSpec, opts: { forceNullable?: boolean } = {}): string {
  const parts = [quoteIdent(column.name), column.type];
  if (column.defaultSql) parts.push(`DEFAULT ${column.defaultSql}`);
  if (!column.nullable && !opts.forceNullable) parts.push('NOT NULL');
  if (column.check) parts.push(`CONSTRAINT ${quoteIdent(column.check.name)} CHECK (${column.check.sql})`);
  return parts.join(' ');
}

export function createTable(table: TableSpec): Statement {
  const lines = [
    ...table.columns.map((c) => `  ${columnDefinition(c)}`),
    `  CONSTRAINT ${quoteIdent(table.primaryKey.name)} PRIMARY KEY (${table.primaryKey.columns.map(quoteIdent).join(', ')})`,
  ];
  return {
    sql: `CREATE TABLE IF NOT EXISTS ${qualified(table.schema, table.name)} (\n${lines.join(',\n')}\n)`,
    transactional: true,
    hazards: [],
  };
}

/**
 * Adds a column without rewriting the table: constant defaults are stored in the catalog (Postgres 11+).
 * A required column without a default cannot be added NOT NULL to a table that has rows, so it is added
 * nullable and the difference is reported as drift.
 */
export function addColumn(table: TableSpec, column: ColumnSpec): Statement {
  const forceNullable = !column.nullable && !column.defaultSql;
  return {
    sql: `ALTER TABLE ${qualified(table.schema, table.name)} ADD COLUMN IF NOT EXISTS ${columnDefinition(column, { forceNullable })}`,
    transactional: true,
    hazards: forceNullable
      ? ['ACQUIRES_ACCESS_EXCLUSIVE_LOCK', 'NULLABLE_WHERE_MODEL_REQUIRES_VALUE']
      : ['ACQUIRES_ACCESS_EXCLUSIVE_LOCK'],
  };
}

/** `concurrently` for tables that already exist; inside the creating transaction for new ones. */
export function createIndex(table: TableSpec, index: TableIndexSpec, concurrently: boolean): Statement {
  const where = index.whereSql ? ` WHERE ${index.whereSql}` : '';
  return {
    sql: `CREATE INDEX ${concurrently ? 'CONCURRENTLY ' : ''}IF NOT EXISTS ${quoteIdent(index.name)} ON ${qualified(table.schema, table.name)} USING ${index.method} (${index.keysSql})${where}`,
    transactional: !concurrently,
    hazards: concurrently ? ['INDEX_BUILD'] : [],
  };
}

/** Drops an invalid index left by a failed concurrent build, without blocking writes. */
export function dropIndexConcurrently(schema: string, indexName: string): Statement {
  return {
    sql: `DROP INDEX CONCURRENTLY IF EXISTS ${qualified(schema, indexName)}`,
    transactional: false,
    hazards: ['INDEX_DROPPED'],
  };
}

export function commentOnTable(table: TableSpec): Statement {
  return {
    sql: `COMMENT ON TABLE ${qualified(table.schema, table.name)} IS ${quoteLiteral(table.comment)}`,
    transactional: true,
    hazards: [],
  };
}

export function commentOnColumn(table: TableSpec, column: ColumnSpec): Statement {
  return {
    sql: `COMMENT ON COLUMN ${qualified(table.schema, table.name)}.${quoteIdent(column.name)} IS ${quoteLiteral(column.comment)}`,
    transactional: true,
    hazards: [],
  };
}
