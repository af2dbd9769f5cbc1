import { adoptionProblems } from './adoption.js';
import * as ddl from './ddl.js';
import type { Finding } from './findings.js';
import { hashOf } from './hash.js';
import type { ObservedIndex, ObservedSchema, ObservedTable } from './observed.js';
import { desiredComment, parseTableOwner, type TableOrigin, type TableOwner } from './ownership.js';
import { sameList } from './same-list.js';
import type { PlanStep } from './statement.js';
import type { TableIndexSpec, TableSpec } from './table-spec.js';
import { normalizeType } from './type-names.js';

/** The tables one sink wants in one schema. */
export interface DesiredSchema {
  readonly schema: string;
  readonly tables: readonly TableSpec[];
}

export interface PlanPolicy {
  /** `Correct` re-creates what went missing; `Report` only reports it. */
  readonly drift: 'Correct' | 'Report';
  /** Take over compatible tables that carry no ownership comment (`spec.policy.adopt`). */
  readonly adopt: boolean;
  /**
   * Tables this sink provisioned before, as records outside the sink's schema know them (active catalog
   * rows, the provision's last status). The ownership comments of the sink's other tables add to it. A
   * missing table on either list is drift; one on neither is simply new, and is created whatever the
   * drift policy.
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

function commentDescription(where: string, table: TableSpec, owner: TableOwner | undefined): string {
  if (!owner) return `comment on table ${where} (records its adoption by ${table.sinkId})`;
  if (owner.modelVersion !== table.modelVersion)
    return `comment on table ${where} (model ${table.modelId} ${owner.modelVersion} → ${table.modelVersion})`;
  return `comment on table ${where} (ownership record)`;
}

function planNewTable(table: TableSpec, where: string, sinkTables: readonly string[]): PlanStep {
  return {
    kind: 'createTable',
    target: where,
    table: where,
    description: `create table ${where} with ${table.columns.length} columns and ${table.indexes.length} indexes`,
    statements: [
      ddl.createTable(table),
      ...table.indexes.map((i) => ddl.createIndex(table, i, false)),
      ddl.commentOnTable(table, desiredComment(table, 'created', sinkTables, null)),
      ...table.columns.map((c) => ddl.commentOnColumn(table, c)),
    ],
  };
}

function planExistingTable(
  table: TableSpec,
  observed: ObservedTable,
  policy: PlanPolicy,
  sinkTables: readonly string[],
): TablePlan {
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
  if (!owner && !policy.adopt) {
    finding({
      kind: 'unmanagedTable',
      severity: 'conflict',
      message: `table ${where} exists but was not created by cdm-sink-operator (its comment has no ownership line); it is not touched: drop or rename it, use another schema or tablePrefix, or set spec.policy.adopt: true to adopt it`,
    });
    return result;
  }
  const problems = owner ? [] : adoptionProblems(table, observed);
  if (problems.length > 0) {
    finding({
      kind: 'incompatibleTable',
      severity: 'conflict',
      message: `table ${where} exists without an ownership comment and cannot be adopted for model ${table.modelId}: ${problems.join('; ')}; it is not touched: fix or drop it, or use another schema or tablePrefix`,
    });
    return result;
  }
  const origin: TableOrigin = owner?.origin ?? 'adopted';
  // Things missing from a table at the model version we last wrote are drift; at an older version, or
  // on a table being adopted, they are an upgrade and always applied.
  const upgrading = !owner || owner.modelVersion !== table.modelVersion;
  const reportOnly = policy.drift === 'Report' && !upgrading;
  // A difference a newer model version asks for, on a table we own, is a change we refuse to make
  // (it could rewrite or lose data), not drift someone caused by hand.
  const changeSeverity = owner && upgrading ? 'blocked' : 'drift';
  const planCheck = (column: TableSpec['columns'][number], check: { name: string; sql: string }) => {
    result.transactional.push({
      kind: 'addCheck',
      target: `${where}.${check.name}`,
      table: where,
      description: `add check ${check.name} on ${where} (NOT VALID: existing rows are checked in a later step)`,
      statements: [ddl.addCheckNotValid(table, check)],
    });
    planValidate(column, check.name);
  };
  const planValidate = (column: TableSpec['columns'][number], name: string) => {
    result.concurrent.push({
      kind: 'validateCheck',
      target: `${where}.${name}`,
      table: where,
      description: `validate check ${name} on ${where}.${column.name} against existing rows (reads and writes go on)`,
      statements: [ddl.validateConstraint(table, name)],
    });
  };
  const observedChecks = new Map(observed.checks.map((c) => [c.name, c]));

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
      if (column.check) planCheck(column, column.check);
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
    const check = column.check;
    const observedCheck = check ? observedChecks.get(check.name) : undefined;
    if (check && !observedCheck) {
      if (!upgrading) {
        finding({
          kind: 'missingCheck',
          severity: 'drift',
          column: column.name,
          expected: check.sql,
          corrected: !reportOnly,
          message: `check constraint ${check.name} on ${where} is missing`,
        });
      }
      if (!reportOnly) planCheck(column, check);
    } else if (check && observedCheck && !observedCheck.validated) {
      // Left NOT VALID by an interrupted earlier apply: finishing it is our own step, not a correction.
      planValidate(column, check.name);
    }
    // An adopted table's existing columns keep their owner's comments.
    if (origin === 'created' && actual.comment !== column.comment) {
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
  const comment = desiredComment(table, origin, sinkTables, observed.comment);
  if (observed.comment !== comment && !blocked) {
    result.transactional.push({
      kind: 'comment',
      target: where,
      table: where,
      description: commentDescription(where, table, owner),
      statements: [ddl.commentOnTable(table, comment)],
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
 * sink gets a `conflictingOwner` finding and no step; a table without an ownership comment gets an
 * `unmanagedTable` (or, with `adopt`, an `incompatibleTable`) finding and no step.
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
  const sinkTables = desired.tables.map((t) => t.name).sort();
  const sinkId = desired.tables[0]?.sinkId;
  const knownBefore = new Set(policy.previouslyProvisioned);
  for (const table of observed.tables) {
    const owner = parseTableOwner(table.comment);
    if (owner && owner.sinkId === sinkId) for (const name of owner.sinkTables) knownBefore.add(name);
  }
  for (const table of desired.tables) {
    const where = `${table.schema}.${table.name}`;
    const actual = observedTables.get(table.name);
    if (actual) {
      const tablePlan = planExistingTable(table, actual, policy, sinkTables);
      transactional.push(...tablePlan.transactional);
      concurrent.push(...tablePlan.concurrent);
      findings.push(...tablePlan.findings);
      continue;
    }
    const provisionedBefore = knownBefore.has(table.name);
    const reportOnly = provisionedBefore && policy.drift === 'Report';
    if (provisionedBefore) {
      findings.push({
        kind: 'missingTable',
        severity: 'drift',
        table: where,
        corrected: !reportOnly,
        message: `table ${where} was provisioned before and is missing`,
      });
    }
    if (!reportOnly) transactional.push(planNewTable(table, where, sinkTables));
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
