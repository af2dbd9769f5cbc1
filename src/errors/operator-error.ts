import type { Reason } from './reasons.js';

/**
 * Every failure the reconcile loop can report. `reason` is the condition reason; `retryable` decides
 * between backoff (transient: `Stalled=False`) and waiting for a human (`Stalled=True`, no requeue).
 * Messages never contain secrets: connection URLs are redacted before they reach one.
 */
export class OperatorError extends Error {
  override readonly name: string = 'OperatorError';
  constructor(
    readonly reason: Reason,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isOperatorError(error: unknown): error is OperatorError {
  return error instanceof OperatorError;
}
