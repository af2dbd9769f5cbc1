import { isOperatorError } from '../errors/index.js';
import { Action } from '../reconcile/action.js';

/** Back off per key (rate limiter) before the next attempt. */
export interface Backoff {
  readonly kind: 'backoff';
}
export const BACKOFF: Backoff = Object.freeze({ kind: 'backoff' });

/** What the work loop does with a key after handling it. */
export type Requeue = Action | Backoff;

/**
 * What to do after a failed reconcile (kube-runtime `error_policy`, controller-runtime `TerminalError`):
 * synchronous and side-effect free; only the work loop touches the queue.
 *
 * - A retryable `OperatorError` (connection refused, lock timeout, …) → per-key exponential backoff.
 * - A non-retryable one (invalid spec, missing Secret, authentication) → no requeue: a human must change
 *   something. A change to the object requeues it, and the periodic resync looks again anyway.
 * - Anything else (an API call that failed, a bug) → backoff: transient until shown otherwise.
 */
export function errorPolicy(error: unknown): Requeue {
  if (isOperatorError(error) && !error.retryable) return Action.awaitChange();
  return BACKOFF;
}
