import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Failure classification and backoff for batch writes. Classification uses only error codes (SQLSTATE
 * from the server, Node's system error codes) and whether our client saw its connection die, never
 * message text (STYLE.md rule 10).
 */

/**
 * - `transient`: the same batch may succeed on a fresh connection (lost connection, serialization
 *   failure, deadlock, server shutting down or starting).
 * - `conflict`: a concurrent writer inserted a key this batch meant to COPY as new (`23505`); the batch
 *   is replayed with `INSERT … ON CONFLICT` for every row. (A `23505` from the upsert itself comes from
 *   another unique index: the batch treats it as `data`.)
 * - `data`: Postgres refused some row (SQLSTATE class 22, data exception, or 23, integrity constraint
 *   violation: a constraint or trigger the validator does not know about); the batch is replayed once,
 *   isolating the refused rows by bisection.
 * - `fatal`: retrying cannot help (permissions, missing objects, anything unrecognised).
 */
export type FailureKind = 'transient' | 'conflict' | 'data' | 'fatal';

/** What the writer's retry hook (`onRetry`) learns before a batch is retried; for logs and metrics. */
export interface RetryEvent {
  readonly modelId: string;
  /** Input positions of the first and last row of the batch. */
  readonly firstIndex: number;
  readonly lastIndex: number;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  readonly kind: FailureKind;
  /** SQLSTATE or Node error code of the failure, when it had one. */
  readonly code: string | undefined;
  readonly error: unknown;
}

const TRANSIENT_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '53300', // too_many_connections
  '57P01', // admin_shutdown (pg_terminate_backend, fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovery)
]);

const TRANSIENT_NODE_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** The SQLSTATE or Node error code of `error`, if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** SQLSTATE class 22 (data exception) or 23 (integrity constraint violation): one row's fault. */
export function isDataErrorCode(code: string | undefined): boolean {
  return code !== undefined && /^2[23][0-9A-Z]{3}$/.test(code);
}

/**
 * Classifies a failure. `connectionLost` is true when the client emitted `error` or `end` during the
 * attempt: pg reports a dropped socket as an error without a code ("Connection terminated
 * unexpectedly"), so the client's own event is the code-free signal.
 */
export function classifyFailure(error: unknown, connectionLost: boolean): FailureKind {
  const code = errorCode(error);
  if (code === '23505') return 'conflict';
  if (connectionLost) return 'transient';
  if (code === undefined) return 'fatal';
  if (isDataErrorCode(code)) return 'data';
  if (code.startsWith('08') || TRANSIENT_SQLSTATES.has(code) || TRANSIENT_NODE_CODES.has(code))
    return 'transient';
  return 'fatal';
}

export interface RetryPolicy {
  /** Attempts per batch, the first included (default 6). */
  readonly maxAttempts: number;
  /** First backoff delay (default 100 ms); doubles per attempt. */
  readonly baseDelayMs: number;
  /** Backoff cap (default 5 s). */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5000 };

/**
 * `policy` over the defaults, field by field. An explicit `undefined` (`{ maxAttempts: undefined }`, as
 * a spread of optional settings produces) means "not set": spreading it would replace the default
 * with `undefined`, and `attempt < undefined` is false, which silently turned retries off.
 */
export function retryPolicy(policy: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    maxAttempts: policy.maxAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts,
    baseDelayMs: policy.baseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
    maxDelayMs: policy.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
  };
}

/** Capped exponential backoff with "equal jitter": half fixed, half random, so retries spread out. */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const capped = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(capped / 2 + (capped / 2) * random());
}

export function waitBeforeRetry(policy: RetryPolicy, attempt: number): Promise<void> {
  return sleep(backoffDelay(policy, attempt));
}
