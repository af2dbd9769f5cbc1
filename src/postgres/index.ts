export { type ApplyOptions, type ApplyResult, applyPlan, type StepResult } from './apply.js';
export { classifyDbError, isLockTimeout, isQueryCanceled } from './db-errors.js';
export { commentOnTableSql } from './ddl.js';
export { desiredSchema, type LayoutProblem, layoutProblems } from './desired-schema.js';
export type { Finding, FindingKind } from './findings.js';
export { canonicalJson, hashOf } from './hash.js';
export {
  assertIdentifier,
  MAX_IDENTIFIER_BYTES,
  qualified,
  quoteIdent,
  quoteLiteral,
} from './identifiers.js';
export { observeSchema } from './introspect.js';
export { describeSession, type LockHolder, lockHolders, oldestTransactions } from './lock-holders.js';
export type { ObservedSchema, ObservedTable } from './observed.js';
export {
  parseTableOwner,
  type TableOrigin,
  type TableOwner,
  withOwnership,
  withoutOwnership,
} from './ownership.js';
export { type DesiredSchema, type Plan, type PlanPolicy, planSchema } from './plan.js';
export type { Queryable } from './queryable.js';
export type { Hazard, PlanStep, Statement, StepKind } from './statement.js';
export { tableName } from './table-name.js';
export { desiredTable, type SinkLayout, type TableSpec } from './table-spec.js';
