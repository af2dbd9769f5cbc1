/**
 * `promise`, or a rejection with the signal's reason as soon as `signal` aborts, for calls that may not
 * honour the signal themselves (a half-open connection never errors). The abandoned promise's outcome is
 * still observed, so its failure is never an unhandled rejection.
 */
export function untilAborted<R>(promise: Promise<R>, signal: AbortSignal): Promise<R> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
