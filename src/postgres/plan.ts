import * as ddl from './ddl.js';
import type { Finding } from './findings.js';
import { hashOf } from './hash.js';
import type { ObservedIndex, ObservedSchema, ObservedTable } from './observed.js';
import type { PlanStep } from './statement.js';
import { parseTableOwner, type TableIndexSpec, type TableSpec } from './table-spec.js';
import { normalizeType } from './type-names.js';

/** The tables one sink wants in one schema. */
export interface DesiredSchema {
  readonly schema: string;
  readonly tables: readonly TableSpec[];
}

export interface PlanPolicy {
  /** `Correct` re-creates what went missing; `Report` only reports it. */
  readonly drift: 'Correct' | 'Report';
  /**
   * Tables this sink provisioned before (its catalog rows). A missing table on this list is drift;
   * one not on it is simply new, and is created whatever the drift policy.
   */
  readonly previouslyProvisioned: ReadonlySet<string>;
}

/** What must run to make `observed` match `desired`, and what differs but is never auto-fixed. */
export interface Plan {
  readonly desired: DesiredSchema;
  readonly policy: PlanPolicy;
  readonly steps: readonly PlanStep[];
  readonly findings: readonly Finding[];
  /** Hash of the observed state the plan was made from; apply re-plans when the state moved. */
  readonly observedHash: string;
  /** Hash of the statements; equal plans have equal hashes. */
  readonly hash: string;
}

function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Method, key columns (expressions compare as `null`) and partial-ness; expression text is not compared. */
function indexMatches(desired: TableIndexSpec, observed: ObservedIndex): boolean {
  return (
    observed.method === desired.method &&
    observed.partial === Boolean(desired.whereSql) &&
    sameList(observed.keyColumns, desired.keyColumns)
  );
}

interface TablePlan {
  readonly transactional: PlanStep[];
  readonly concurrent: PlanStep[];
  readonly findings: Finding[];
}

function planNewTable(table: TableSpec, where: string): PlanStep {
  return {
    kind: 'createTable',
    target: where,
    table: where,
    description: `create table ${where} with ${table.columns.length} columns and ${table.indexes.length} indexes`,
    statements: [
      ddl.createTable(table),
      ...table.indexes.map((i) => ddl.createIndex(table, i, false)),
      ddl.commentOnTable(table),
      ...table.columns.map((c) => ddl.commentOnColumn(table, c)),
    ],
  };
}

function planExistingTable(table: TableSpec, observed: ObservedTable, policy: PlanPolicy): TablePlan {
  const where = `${table.schema}.${table.name}`;
  const result: TablePlan = { transactional: [], concurrent: [], findings: [] };
  const finding = (f: Omit<Finding, 'table'>) => result.findings.push({ table: where, ...f });

  const owner = parseTableOwner(observed.comment);
  if (owner && (owner.sinkId !== table.sinkId || owner.modelId !== table.modelId)) {
    finding({
      kind: 'conflictingOwner',
      severity: 'conflict',
      expected: `${table.modelId} of ${table.sinkId}`,
      actual: `${owner.modelId} of ${owner.sinkId}`,
      message: `table ${where} belongs to sink ${owner.sinkId} (model ${owner.modelId}); it is not touched`,
    });
    return result;
  }
  // Things missing from a table at the model version we last wrote are drift; at an older version they
  // are an upgrade and always applied.
  const upgrading = !owner || owner.modelVersion !== table.modelVersion;
  const reportOnly = policy.drift === 'Report' && !upgrading;
  // A difference a newer model version asks for, on a table we own, is a change we refuse to make
  // (it could rewrite or lose data), not drift someone caused by hand.
  const changeSeverity = owner && upgrading ? 'blocked' : 'drift';

  const observedColumns = new Map(observed.columns.map((c) => [c.name, c]));
  const addedColumns = new Set<string>();
  for (const column of table.columns) {
    const actual = observedColumns.get(column.name);
    if (!actual) {
      if (!upgrading) {
        finding({
          kind: 'missingColumn',
          severity: 'drift',
          column: column.name,
          expected: column.formattedType,
          corrected: !reportOnly,
          message: `column ${where}.${column.name} is missing`,
        });
      }
      if (reportOnly) continue;
      addedColumns.add(column.name);
      const statement = ddl.addColumn(table, column);
      result.transactional.push({
        kind: 'addColumn',
        target: `${where}.${column.name}`,
        table: where,
        description: `add column ${where}.${column.name} ${column.type}`,
        statements: [statement, ddl.commentOnColumn(table, column)],
      });
      if (statement.hazards.includes('NULLABLE_WHERE_MODEL_REQUIRES_VALUE')) {
        finding({
          kind: 'nullabilityMismatch',
          severity: changeSeverity,
          column: column.name,
          expected: 'NOT NULL',
          actual: 'NULL',
          message: `column ${where}.${column.name} is added nullable: the model requires a value but existing rows have none`,
        });
      }
      continue;
    }
    if (actual.type !== normalizeType(column.formattedType)) {
      finding({
        kind: 'typeMismatch',
        severity: changeSeverity,
        column: column.name,
        expected: column.formattedType,
        actual: actual.type,
        message: `column ${where}.${column.name} has type ${actual.type}, the model wants ${column.formattedType}`,
      });
    }
    if (actual.nullable !== column.nullable) {
      finding({
        kind: 'nullabilityMismatch',
        severity: changeSeverity,
        column: column.name,
        expected: column.nullable ? 'NULL' : 'NOT NULL',
        actual: actual.nullable ? 'NULL' : 'NOT NULL',
        message: `column ${where}.${column.name} is ${actual.nullable ? 'nullable' : 'NOT NULL'}, the model wants ${column.nullable ? 'nullable' : 'NOT NULL'}`,
      });
    }
    if ((actual.defaultSql ?? null) !== (column.defaultSql ?? null)) {
      finding({
        kind: 'defaultMismatch',
        severity: changeSeverity,
        column: column.name,
        expected: column.defaultSql ?? '(none)',
        actual: actual.defaultSql ?? '(none)',
        message: `column ${where}.${column.name} has default ${actual.defaultSql ?? '(none)'}, the model wants ${column.defaultSql ?? '(none)'}`,
      });
    }
    if (column.check && !observed.checks.some((c) => c.name === column.check?.name)) {
      finding({
        kind: 'missingCheck',
        severity: 'drift',
        column: column.name,
        expected: column.check.sql,
        message: `check constraint ${column.check.name} on ${where} is missing`,
      });
    }
    if (actual.comment !== column.comment) {
      result.transactional.push({
        kind: 'comment',
        target: `${where}.${column.name}`,
        table: where,
        description: `comment on column ${where}.${column.name}`,
        statements: [ddl.commentOnColumn(table, column)],
      });
    }
  }
  const desiredColumns = new Set(table.columns.map((c) => c.name));
  for (const column of observed.columns) {
    if (!desiredColumns.has(column.name)) {
      finding({
        kind: 'foreignColumn',
        severity: 'info',
        column: column.name,
        actual: column.type,
        message: `column ${where}.${column.name} is not part of model ${table.modelId}; it is left alone`,
      });
    }
  }

  if (!observed.primaryKey || !sameList(observed.primaryKey.columns, table.primaryKey.columns)) {
    finding({
      kind: 'primaryKeyMismatch',
      severity: changeSeverity,
      expected: table.primaryKey.columns.join(', '),
      actual: observed.primaryKey?.columns.join(', ') ?? '(none)',
      message: `primary key of ${where} is (${observed.primaryKey?.columns.join(', ') ?? 'none'}), the model wants (${table.primaryKey.columns.join(', ')})`,
    });
  }

  const observedIndexes = new Map(observed.indexes.map((i) => [i.name, i]));
  for (const index of table.indexes) {
    const actual = observedIndexes.get(index.name);
    if (actual && !actual.valid) {
      result.concurrent.push({
        kind: 'rebuildIndex',
        target: `${table.schema}.${index.name}`,
        table: where,
        description: `rebuild invalid index ${index.name} on ${where} (left by a failed concurrent build)`,
        statements: [
          ddl.dropIndexConcurrently(table.schema, index.name),
          ddl.createIndex(table, index, true),
        ],
      });
      continue;
    }
    if (actual) {
      if (!indexMatches(index, actual)) {
        finding({
          kind: 'indexDefinitionMismatch',
          severity: 'drift',
          index: index.name,
          actual: actual.definition,
          expected: `USING ${index.method} (${index.keysSql})${index.whereSql ? ` WHERE ${index.whereSql}` : ''}`,
          message: `index ${index.name} on ${where} does not match the model; it is left alone`,
        });
      }
      continue;
    }
    const columnsPresent = index.columns.every((c) => observedColumns.has(c) || addedColumns.has(c));
    if (!upgrading) {
      finding({
        kind: 'missingIndex',
        severity: 'drift',
        index: index.name,
        corrected: !reportOnly && columnsPresent,
        message: `index ${index.name} on ${where} is missing`,
      });
    }
    if (reportOnly || !columnsPresent) continue;
    result.concurrent.push({
      kind: 'createIndex',
      target: `${table.schema}.${index.name}`,
      table: where,
      description: `create index ${index.name} on ${where} concurrently`,
      statements: [ddl.createIndex(table, index, true)],
    });
  }
  const desiredIndexes = new Set([table.primaryKey.name, ...table.indexes.map((i) => i.name)]);
  for (const index of observed.indexes) {
    if (!desiredIndexes.has(index.name)) {
      finding({
        kind: 'foreignIndex',
        severity: 'info',
        index: index.name,
        actual: index.definition,
        message: `index ${index.name} on ${where} is not part of model ${table.modelId}; it is left alone`,
      });
    }
  }

  // The comment records the model version; it moves only once that version is fully in place, so a
  // blocked change stays visible as blocked on every later reconcile.
  const blocked = result.findings.some((f) => f.severity === 'blocked');
  if (observed.comment !== table.comment && !blocked) {
    result.transactional.push({
      kind: 'comment',
      target: where,
      table: where,
      description: owner
        ? `comment on table ${where} (model ${table.modelId} ${owner.modelVersion} → ${table.modelVersion})`
        : `comment on table ${where} (records ownership by ${table.sinkId})`,
      statements: [ddl.commentOnTable(table)],
    });
  }
  return result;
}

/**
 * Plans the change from `observed` to `desired`. Pure. Steps come in execution order: everything that
 * can share one transaction first, then the `CONCURRENTLY` index builds that cannot.
 *
 * Guarantees: only additive steps (nothing is dropped or narrowed, except an invalid index that is
 * rebuilt); an observed state equal to the desired one gives an empty plan; a table owned by another
 * sink gets a `conflictingOwner` finding and no step.
 */
export function planSchema(desired: DesiredSchema, observed: ObservedSchema, policy: PlanPolicy): Plan {
  const transactional: PlanStep[] = [];
  const concurrent: PlanStep[] = [];
  const findings: Finding[] = [];
  if (!observed.exists) {
    transactional.push({
      kind: 'createSchema',
      target: desired.schema,
      description: `create schema ${desired.schema}`,
      statements: [ddl.createSchema(desired.schema)],
    });
  }
  const observedTables = new Map(observed.tables.map((t) => [t.name, t]));
  for (const table of desired.tables) {
    const where = `${table.schema}.${table.name}`;
    const actual = observedTables.get(table.name);
    if (actual) {
      const tablePlan = planExistingTable(table, actual, policy);
      transactional.push(...tablePlan.transactional);
      concurrent.push(...tablePlan.concurrent);
      findings.push(...tablePlan.findings);
      continue;
    }
    const knownBefore = policy.previouslyProvisioned.has(table.name);
    const reportOnly = knownBefore && policy.drift === 'Report';
    if (knownBefore) {
      findings.push({
        kind: 'missingTable',
        severity: 'drift',
        table: where,
        corrected: !reportOnly,
        message: `table ${where} was provisioned before and is missing`,
      });
    }
    if (!reportOnly) transactional.push(planNewTable(table, where));
  }
  const steps = [...transactional, ...concurrent];
  return {
    desired,
    policy,
    steps,
    findings,
    observedHash: hashOf(observed),
    hash: hashOf(steps.map((s) => s.statements.map((st) => st.sql))),
  };
}
