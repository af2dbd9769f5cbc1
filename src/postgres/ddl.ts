import { qualified, quoteIdent, quoteLiteral } from './identifiers.js';
import type { Statement } from './statement.js';
import type { ColumnSpec, TableIndexSpec, TableSpec } from './table-spec.js';

/**
 * SQL generation, one function per statement kind. Pure: specs in, statements out. Statements are
 * idempotent (`IF NOT EXISTS`) where a replay cannot claim what is not ours, so a replay after a crash is
 * harmless; `CREATE TABLE` is the exception (see `createTable`).
 */

export function createSchema(schema: string): Statement {
  return { sql: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`, transactional: true, hazards: [] };
}

function columnDefinition(column: ColumnSpec, opts: { forceNullable?: boolean; withCheck: boolean }): string {
  const parts = [quoteIdent(column.name), column.type];
  if (column.defaultSql) parts.push(`DEFAULT ${column.defaultSql}`);
  if (!column.nullable && !opts.forceNullable) parts.push('NOT NULL');
  if (column.check && opts.withCheck)
    parts.push(`CONSTRAINT ${quoteIdent(column.check.name)} CHECK (${column.check.sql})`);
  return parts.join(' ');
}

/**
 * Deliberately without `IF NOT EXISTS`: the plan is made under the advisory lock from a fresh
 * observation, so a relation at this name now was made by someone outside the lock. Skipping it would
 * let the `COMMENT` that follows claim a table we did not create; failing rolls the step back, and the
 * next reconcile reports the table as not ours.
 */
export function createTable(table: TableSpec): Statement {
  const lines = [
    ...table.columns.map((c) => `  ${columnDefinition(c, { withCheck: true })}`),
    `  CONSTRAINT ${quoteIdent(table.primaryKey.name)} PRIMARY KEY (${table.primaryKey.columns.map(quoteIdent).join(', ')})`,
  ];
  return {
    sql: `CREATE TABLE ${qualified(table.schema, table.name)} (\n${lines.join(',\n')}\n)`,
    transactional: true,
    hazards: [],
  };
}

/**
 * Adds a column without rewriting the table: constant defaults are stored in the catalog (Postgres 11+).
 * A required column without a default cannot be added NOT NULL to a table that has rows, so it is added
 * nullable and the difference is reported as drift. Its CHECK is not part of the statement: `ADD COLUMN
 * … CHECK` scans every row under the ACCESS EXCLUSIVE lock; the plan adds it as `NOT VALID` and validates
 * it afterwards instead (see `addCheckNotValid`).
 */
export function addColumn(table: TableSpec, column: ColumnSpec): Statement {
  const forceNullable = !column.nullable && !column.defaultSql;
  return {
    sql: `ALTER TABLE ${qualified(table.schema, table.name)} ADD COLUMN IF NOT EXISTS ${columnDefinition(column, { forceNullable, withCheck: false })}`,
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

/**
 * A CHECK that existing rows are not checked against yet: the ACCESS EXCLUSIVE lock it takes is held for
 * a catalog update only, not a table scan. New rows are checked from the moment it commits.
 */
export function addCheckNotValid(table: TableSpec, check: { name: string; sql: string }): Statement {
  return {
    sql: `ALTER TABLE ${qualified(table.schema, table.name)} ADD CONSTRAINT ${quoteIdent(check.name)} CHECK (${check.sql}) NOT VALID`,
    transactional: true,
    hazards: ['ACQUIRES_ACCESS_EXCLUSIVE_LOCK'],
  };
}

/**
 * Checks existing rows against a `NOT VALID` constraint under SHARE UPDATE EXCLUSIVE, which lets reads and
 * writes go on. Run in its own transaction: inside the one that added the constraint it would scan while
 * that transaction still holds ACCESS EXCLUSIVE.
 */
export function validateConstraint(table: TableSpec, name: string): Statement {
  return {
    sql: `ALTER TABLE ${qualified(table.schema, table.name)} VALIDATE CONSTRAINT ${quoteIdent(name)}`,
    transactional: false,
    hazards: ['VALIDATES_EXISTING_ROWS'],
  };
}

/** `comment` null removes the comment (a released table keeps no trace of us). */
export function commentOnTableSql(schema: string, table: string, comment: string | null): string {
  return `COMMENT ON TABLE ${qualified(schema, table)} IS ${comment === null ? 'NULL' : quoteLiteral(comment)}`;
}

export function commentOnTable(table: TableSpec, comment: string | null): Statement {
  return { sql: commentOnTableSql(table.schema, table.name, comment), transactional: true, hazards: [] };
}

export function commentOnColumn(table: TableSpec, column: ColumnSpec): Statement {
  return {
    sql: `COMMENT ON COLUMN ${qualified(table.schema, table.name)}.${quoteIdent(column.name)} IS ${quoteLiteral(column.comment)}`,
    transactional: true,
    hazards: [],
  };
}
