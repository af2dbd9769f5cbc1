import type pg from 'pg';
import type { OperatorError } from '../errors/index.js';
import { isOperatorError } from '../errors/index.js';
import { lockSchema, SCHEMA_UNLOCK_SQL as UNLOCK_SQL } from './advisory-lock.js';
import { classifyDbError, isLockTimeout, isQueryCanceled } from './db-errors.js';
import { dropIndexConcurrently } from './ddl.js';
import { type Session, withDedicatedClient } from './dedicated-client.js';
import { hashOf } from './hash.js';
import { observeSchema } from './introspect.js';
import { describeSession, lockHolders, oldestTransactions } from './lock-holders.js';
import type { ObservedSchema } from './observed.js';
import { type Plan, planSchema } from './plan.js';
import type { PlanStep, Statement } from './statement.js';

export interface ApplyOptions {
  /** `lock_timeout` for every statement that waits for a table lock (the provision's `policy.lockTimeout`). */
  readonly lockTimeoutMs: number;
  /** `statement_timeout` for transactional statements (default 60 s). */
  readonly statementTimeoutMs?: number;
  /**
   * `statement_timeout` for concurrent index builds and constraint validation, which scan the table
   * (default 1 h). Index builds run without `lock_timeout`: they wait for every older transaction of the
   * database, not for a lock on the table, so a table-lock bound would abort them for the wrong reason.
   */
  readonly indexBuildTimeoutMs?: number;
  /** How long to wait for another applier of the same schema (default 30 s). */
  readonly advisoryLockTimeoutMs?: number;
  /** Retries after a lock timeout, with capped exponential backoff (default 3 attempts, 250 ms → 2 s). */
  readonly retry?: { readonly attempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called as each step finishes (transactional ones when their transaction ends), for progress output. */
  readonly onStep?: (result: StepResult) => void;
}

export type StepStatus = 'Success' | 'Error' | 'RolledBack' | 'NotExecuted';

export interface StepResult {
  readonly kind: PlanStep['kind'];
  readonly target: string;
  readonly description: string;
  readonly status: StepStatus;
  readonly durationMs: number;
  readonly error?: string;
}

export interface ApplyResult {
  /**
   * The plan as it stands after this apply, made from `observed`: the input plan when nothing ran,
   * otherwise the one made under the advisory lock after the steps (empty when all went in). Status must
   * come from this plan, never from the one made before the lock was ours.
   */
  readonly plan: Plan;
  /** What was observed under the lock, when the lock was taken; status comes from it. */
  readonly observed?: ObservedSchema;
  /** The plan whose steps ran last (the input plan when none ran): for `lastPlan`, progress and events. */
  readonly executed: Plan;
  readonly results: readonly StepResult[];
  readonly statementsExecuted: number;
  readonly attempts: number;
  readonly durationMs: number;
  readonly error?: OperatorError;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Attempt {
  results: StepResult[];
  statements: number;
  error?: unknown;
  failedStep?: PlanStep;
}

interface Timeouts {
  readonly lockMs: number;
  readonly statementMs: number;
}

/** Index builds wait for old snapshots, not a table lock: `lock_timeout` 0 (none), bounded by the long statement timeout. */
function timeoutsFor(statements: readonly Statement[], options: ApplyOptions): Timeouts {
  const long = options.indexBuildTimeoutMs ?? 3_600_000;
  if (statements.some((s) => s.hazards.includes('INDEX_BUILD'))) return { lockMs: 0, statementMs: long };
  if (statements.some((s) => s.hazards.includes('VALIDATES_EXISTING_ROWS')))
    return { lockMs: options.lockTimeoutMs, statementMs: long };
  return { lockMs: options.lockTimeoutMs, statementMs: options.statementTimeoutMs ?? 60_000 };
}

function setTimeouts(t: Timeouts, local: boolean): string {
  const scope = local ? 'SET LOCAL' : 'SET';
  return `${scope} lock_timeout = '${Math.max(0, Math.round(t.lockMs))}ms'; ${scope} statement_timeout = '${Math.max(0, Math.round(t.statementMs))}ms'`;
}

async function runSteps(client: pg.PoolClient, plan: Plan, options: ApplyOptions): Promise<Attempt> {
  const attempt: Attempt = { results: [], statements: 0 };
  const transactional = plan.steps.filter((s) => s.statements.every((st) => st.transactional));
  const concurrent = plan.steps.filter((s) => !s.statements.every((st) => st.transactional));
  const record = (step: PlanStep, status: StepStatus, durationMs: number, error?: string) => {
    const result = {
      kind: step.kind,
      target: step.target,
      description: step.description,
      status,
      durationMs,
      ...(error ? { error } : {}),
    };
    attempt.results.push(result);
    options.onStep?.(result);
  };

  if (transactional.length > 0) {
    // One transaction for everything that can share one: a failure leaves nothing half-applied.
    await client.query('BEGIN');
    const done: Array<{ step: PlanStep; ms: number }> = [];
    let executed = 0;
    for (const step of transactional) {
      const started = performance.now();
      try {
        await client.query(
          `${setTimeouts(timeoutsFor(step.statements, options), true)}; ${step.statements.map((s) => s.sql).join(';\n')}`,
        );
        done.push({ step, ms: performance.now() - started });
        executed += step.statements.length;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        for (const d of done) record(d.step, 'RolledBack', d.ms);
        record(step, 'Error', performance.now() - started, classifyDbError(error, step.description).message);
        for (const rest of [...transactional.slice(done.length + 1), ...concurrent])
          record(rest, 'NotExecuted', 0);
        return { ...attempt, error, failedStep: step };
      }
    }
    await client.query('COMMIT');
    for (const d of done) record(d.step, 'Success', d.ms);
    attempt.statements += executed;
  }

  for (const [i, step] of concurrent.entries()) {
    const started = performance.now();
    try {
      // CONCURRENTLY refuses to run in a transaction block, multi-statement strings included.
      await client.query(setTimeouts(timeoutsFor(step.statements, options), false));
      for (const statement of step.statements) {
        await client.query(statement.sql);
        attempt.statements += 1;
      }
      record(step, 'Success', performance.now() - started);
    } catch (error) {
      record(step, 'Error', performance.now() - started, classifyDbError(error, step.description).message);
      for (const rest of concurrent.slice(i + 1)) record(rest, 'NotExecuted', 0);
      return { ...attempt, error, failedStep: step };
    } finally {
      await client.query('RESET lock_timeout; RESET statement_timeout').catch(() => {});
    }
  }
  return attempt;
}

/** Whether an index build step left its index behind invalid, as the observation after it shows. */
function leftInvalidIndex(observed: ObservedSchema | undefined, step: PlanStep): boolean {
  if (step.kind !== 'createIndex' && step.kind !== 'rebuildIndex') return false;
  return (observed?.tables ?? []).some((t) =>
    t.indexes.some((i) => `${observed?.schema}.${i.name}` === step.target && !i.valid),
  );
}

/** A failed index build leaves an invalid index that every write maintains: drop it, without blocking writes. */
async function dropInvalidIndex(client: pg.PoolClient, step: PlanStep, lockMs: number): Promise<string> {
  const [schema, name] = step.target.split('.') as [string, string];
  try {
    await client.query(setTimeouts({ lockMs, statementMs: 60_000 }, false));
    await client.query(dropIndexConcurrently(schema, name).sql);
    return '; the invalid index it left was dropped';
  } catch {
    return '; the invalid index it left could not be dropped yet and is rebuilt by the next reconcile';
  } finally {
    await client.query('RESET lock_timeout; RESET statement_timeout').catch(() => {});
  }
}

/** Names what a failed step waited for: the sessions holding the table's lock, or the old transactions an index build waits on. */
async function explainWait(
  client: pg.PoolClient,
  error: unknown,
  step: PlanStep | undefined,
): Promise<string> {
  try {
    if (isQueryCanceled(error) && step?.statements.some((s) => s.hazards.includes('INDEX_BUILD'))) {
      const sessions = await oldestTransactions(client);
      return `; CREATE INDEX CONCURRENTLY waits for every transaction of the database that started before it, on any table${
        sessions.length > 0 ? `; oldest open transactions: ${sessions.map(describeSession).join(', ')}` : ''
      }`;
    }
    if (isLockTimeout(error) && step?.table) {
      const [schema, table] = step.table.split('.') as [string, string];
      // DDL needs ACCESS EXCLUSIVE, which every other lock mode blocks.
      const holders = await lockHolders(client, schema, [table], null);
      return holders.length > 0 ? `; held by ${holders.map(describeSession).join(', ')}` : '';
    }
  } catch {
    // The explanation is a courtesy; the error itself is reported either way.
  }
  return '';
}

/**
 * Executes a plan under a session-level advisory lock on the sink schema, so two controllers, or a
 * controller and a CLI, never interleave.
 *
 * Guarantees: an empty plan sends nothing (no lock, no statement). Under the lock the schema is observed
 * again and re-planned if it moved, so concurrent appliers converge instead of failing; a conflict found
 * there stops everything (nothing runs). After the steps the schema is observed once more, still under the
 * lock, and the result's `plan`/`observed` describe that state. Transactional steps run in one
 * transaction; `CONCURRENTLY` steps run one by one outside it. Every statement runs with bounded
 * timeouts. A lock timeout is retried with capped backoff, re-planning each time; a statement timeout is
 * not (a long index build would otherwise hold the lock for hours), and an index build that gave up
 * leaves no invalid index behind.
 *
 * Errors: never throws for database failures; `result.error` is a classified `OperatorError`.
 */
export async function applyPlan(pool: pg.Pool, plan: Plan, options: ApplyOptions): Promise<ApplyResult> {
  const started = performance.now();
  const schema = plan.desired.schema;
  const base = { executed: plan, results: [], statementsExecuted: 0, attempts: 0 };
  if (plan.steps.length === 0) return { ...base, plan, durationMs: 0 };
  const done = (result: Omit<ApplyResult, 'durationMs'>): ApplyResult => ({
    ...result,
    durationMs: performance.now() - started,
  });
  try {
    return await withDedicatedClient(pool, (client, session) =>
      applyLocked(client, session, plan, options, done),
    );
  } catch (error) {
    // Only checking a client out can end up here: everything after it comes back as a result.
    return done({ ...base, plan, error: classifyDbError(error, `connect to apply schema ${schema}`) });
  }
}

/** `applyPlan` on its own session, from taking the advisory lock to releasing it. */
async function applyLocked(
  client: pg.PoolClient,
  session: Session,
  plan: Plan,
  options: ApplyOptions,
  done: (result: Omit<ApplyResult, 'durationMs'>) => ApplyResult,
): Promise<ApplyResult> {
  const schema = plan.desired.schema;
  const retry = options.retry ?? { attempts: 3, baseDelayMs: 250, maxDelayMs: 2_000 };
  const sleep = options.sleep ?? defaultSleep;
  const advisoryMs = options.advisoryLockTimeoutMs ?? 30_000;
  let current = plan;
  let observed: ObservedSchema | undefined;
  let executed = plan;
  let statements = 0;
  let results: StepResult[] = [];
  let attempts = 0;
  const snapshot = (error?: OperatorError): ApplyResult =>
    done({
      plan: current,
      ...(observed ? { observed } : {}),
      executed,
      results,
      statementsExecuted: statements,
      attempts,
      ...(error ? { error } : {}),
    });
  try {
    try {
      await lockSchema(client, schema, advisoryMs);
    } catch (error) {
      // A lock wait that timed out comes back classified, on a session that is still fine.
      session.broken ||= !isOperatorError(error);
      return snapshot(classifyDbError(error, `lock schema ${schema} for apply`));
    }
    try {
      const tables = current.desired.tables.map((t) => t.name);
      const replan = async () => {
        observed = await observeSchema(client, schema, tables);
        if (hashOf(observed) !== current.observedHash)
          current = planSchema(current.desired, observed, current.policy);
      };
      for (attempts = 1; ; attempts += 1) {
        await replan();
        // Someone else's table appeared while we waited: touch nothing, report it.
        if (current.steps.length === 0 || current.findings.some((f) => f.severity === 'conflict')) break;
        executed = current;
        const attempt = await runSteps(client, current, options);
        results = attempt.results;
        statements += attempt.statements;
        if (attempt.error === undefined) {
          await replan();
          break;
        }
        if (isLockTimeout(attempt.error) && attempts < retry.attempts) {
          await sleep(Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempts - 1)));
          continue;
        }
        const step = attempt.failedStep;
        let detail = await explainWait(client, attempt.error, step);
        // Status follows what is there now, not the plan made before the failure.
        await replan().catch(() => {});
        if (step && isQueryCanceled(attempt.error) && leftInvalidIndex(observed, step)) {
          detail += await dropInvalidIndex(client, step, options.lockTimeoutMs);
          await replan().catch(() => {});
        }
        const context = isLockTimeout(attempt.error)
          ? `lock timeout (${options.lockTimeoutMs} ms) waiting for table ${step?.table ?? schema} during "${step?.description ?? 'apply'}"${detail}; the reconcile will retry`
          : `${step?.description ?? 'apply'}${detail}`;
        return snapshot(classifyDbError(attempt.error, context));
      }
    } finally {
      await client.query(UNLOCK_SQL, [schema]).catch(() => {
        session.broken = true;
      });
    }
  } catch (error) {
    session.broken = true;
    return snapshot(classifyDbError(error, `apply schema ${schema}`));
  }
  return snapshot();
}
