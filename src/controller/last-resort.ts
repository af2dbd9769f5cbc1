import type { Logger } from 'pino';
import { type Clock, realClock, settleWithin } from './clock.js';

/** The part of `process` the policy listens on; tests pass an EventEmitter. */
export interface FatalErrorSource {
  on(event: 'uncaughtException', listener: (error: unknown, origin: string) => void): unknown;
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  off(event: 'uncaughtException', listener: (error: unknown, origin: string) => void): unknown;
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
}

export interface LastResortOptions {
  readonly logger: Logger;
  /**
   * Fails `/healthz`, revokes leadership and releases the Lease, without finishing work in flight: after
   * an error nobody handled, the process state is unknown, so it must neither keep acting nor go on
   * holding the Lease until it expires.
   */
  readonly shutDown: () => Promise<void>;
  readonly exit: (code: number) => void;
  /** How long `shutDown` may take before the process exits anyway. */
  readonly timeoutMs: number;
  readonly clock?: Clock;
}

/** Exit code after an error nobody handled (Node's own is 1 too, but without a log line or a release). */
export const FATAL_EXIT_CODE = 1;

/**
 * The last resort for an error that escaped every handler: log it with context, shut down without
 * draining, then exit non-zero. Never carries on in an unknown state, and never dies without a log line.
 * Returns a function that removes the listeners.
 */
export function installLastResort(source: FatalErrorSource, options: LastResortOptions): () => void {
  const clock = options.clock ?? realClock;
  let exiting = false;
  const fatal = (kind: string, error: unknown) => {
    options.logger.fatal(
      { err: error, kind, alreadyExiting: exiting },
      exiting
        ? `${kind} while shutting down after an earlier one`
        : `${kind}: a bug left the controller in an unknown state; releasing the lease and exiting`,
    );
    if (exiting) return;
    exiting = true;
    // Through a promise, so a shutDown that throws at once still ends in the exit below.
    const shuttingDown = Promise.resolve().then(() => options.shutDown());
    void settleWithin(clock, options.timeoutMs, shuttingDown).then((done) => {
      if (!done) options.logger.error({ timeoutMs: options.timeoutMs }, 'shutdown did not finish in time');
      options.exit(FATAL_EXIT_CODE);
    });
  };
  const onException = (error: unknown, origin: string) =>
    fatal(origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception', error);
  const onRejection = (reason: unknown) => fatal('unhandled rejection', reason);
  source.on('uncaughtException', onException);
  source.on('unhandledRejection', onRejection);
  return () => {
    source.off('uncaughtException', onException);
    source.off('unhandledRejection', onRejection);
  };
}
