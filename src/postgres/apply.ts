import type pg from 'pg';
import type { OperatorError } from '../errors/index.js';
import { SCHEMA_LOCK_SQL as LOCK_SQL, SCHEMA_UNLOCK_SQL as UNLOCK_SQL } from './advisory-lock.js';
import { classifyDbError, isLockTimeout } from './db-errors.js';
import { hashOf } from './hash.js';
import { observeSchema } from './introspect.js';
import { type Plan, planSchema } from './plan.js';
import type { PlanStep } from './statement.js';

export interface ApplyOptions {
  /** `lock_timeout` for every statement (the provision's `policy.lockTimeout`). */
  readonly lockTimeoutMs: number;
  /** `statement_timeout` for transactional statements (default 60 s). */
  readonly statementTimeoutMs?: number;
  /** `statement_timeout` for concurrent index builds, which scan the table (default 1 h). */
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
  /** The plan that ran last: the input one, or a fresh one when the schema moved before the lock was ours. */
  readonly plan: Plan;
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

function timeouts(lockMs: number, statementMs: number, local: boolean): string {
  const scope = local ? 'SET LOCAL' : 'SET';
  return `${scope} lock_timeout = '${Math.max(1, Math.round(lockMs))}ms'; ${scope} statement_timeout = '${Math.max(0, Math.round(statementMs))}ms'`;
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
          `${timeouts(options.lockTimeoutMs, options.statementTimeoutMs ?? 60_000, true)}; ${step.statements.map((s) => s.sql).join(';\n')}`,
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
      await client.query(timeouts(options.lockTimeoutMs, options.indexBuildTimeoutMs ?? 3_600_000, false));
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

function lockTimeoutError(error: unknown, step: PlanStep | undefined, lockTimeoutMs: number): OperatorError {
  const table = step?.table ?? step?.target ?? 'the schema';
  return classifyDbError(
    error,
    `lock timeout (${lockTimeoutMs} ms) waiting for table ${table} during "${step?.description ?? 'apply'}"; another session holds a conflicting lock; the reconcile will retry`,
  );
}

/**
 * Executes a plan under a session-level advisory lock on the sink schema, so two controllers, or a
 * controller and a CLI, never interleave.
 *
 * Guarantees: an empty plan sends nothing (no lock, no statement). Under the lock the schema is observed
 * again and re-planned if it moved, so concurrent appliers converge instead of failing. Transactional
 * steps run in one transaction; `CONCURRENTLY` steps run one by one outside it. Every statement runs with
 * `lock_timeout` and `statement_timeout`. A lock timeout is retried with capped backoff, re-planning each
 * time (which also rebuilds an index a timed-out concurrent build left invalid).
 *
 * Errors: never throws for database failures; `result.error` is a classified `OperatorError`.
 */
export async function applyPlan(pool: pg.Pool, plan: Plan, options: ApplyOptions): Promise<ApplyResult> {
  const started = performance.now();
  const retry = options.retry ?? { attempts: 3, baseDelayMs: 250, maxDelayMs: 2_000 };
  const sleep = options.sleep ?? defaultSleep;
  const schema = plan.desired.schema;
  if (plan.steps.length === 0) {
    return { plan, results: [], statementsExecuted: 0, attempts: 0, durationMs: 0 };
  }
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    return failed(plan, [], 0, 0, started, classifyDbError(error, `connect to apply schema ${schema}`));
  }
  let broken = false;
  let current = plan;
  let statements = 0;
  let results: StepResult[] = [];
  let attempts = 0;
  try {
    try {
      await client.query(`SET lock_timeout = '${options.advisoryLockTimeoutMs ?? 30_000}ms'`);
      await client.query(LOCK_SQL, [schema]);
      await client.query('RESET lock_timeout');
    } catch (error) {
      broken = !isLockTimeout(error);
      const context = isLockTimeout(error)
        ? `another applier holds schema ${schema} (advisory lock) for longer than ${options.advisoryLockTimeoutMs ?? 30_000} ms`
        : `lock schema ${schema} for apply`;
      return failed(plan, [], 0, 0, started, classifyDbError(error, context));
    }
    try {
      for (attempts = 1; ; attempts += 1) {
        const observed = await observeSchema(
          client,
          schema,
          current.desired.tables.map((t) => t.name),
        );
        if (hashOf(observed) !== current.observedHash)
          current = planSchema(current.desired, observed, current.policy);
        if (current.steps.length === 0) break;
        const attempt = await runSteps(client, current, options);
        results = attempt.results;
        statements += attempt.statements;
        if (attempt.error === undefined) break;
        if (!isLockTimeout(attempt.error) && (attempt.error as { code?: string }).code !== '57014') {
          return failed(
            current,
            results,
            statements,
            attempts,
            started,
            classifyDbError(attempt.error, attempt.failedStep?.description ?? 'apply'),
          );
        }
        if (attempts >= retry.attempts) {
          return failed(
            current,
            results,
            statements,
            attempts,
            started,
            lockTimeoutError(attempt.error, attempt.failedStep, options.lockTimeoutMs),
          );
        }
        await sleep(Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempts - 1)));
      }
    } finally {
      await client.query(UNLOCK_SQL, [schema]).catch(() => {
        broken = true;
      });
    }
  } catch (error) {
    broken = true;
    return failed(
      current,
      results,
      statements,
      attempts,
      started,
      classifyDbError(error, `apply schema ${schema}`),
    );
  } finally {
    client.release(broken);
  }
  return {
    plan: current,
    results,
    statementsExecuted: statements,
    attempts,
    durationMs: performance.now() - started,
  };
}

function failed(
  plan: Plan,
  results: StepResult[],
  statements: number,
  attempts: number,
  started: number,
  error: OperatorError,
): ApplyResult {
  return {
    plan,
    results,
    statementsExecuted: statements,
    attempts,
    durationMs: performance.now() - started,
    error,
  };
}
