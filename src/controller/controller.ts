import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { CdmSinkProvision } from '../api/types.js';
import { apiStatusCode, describeApiError } from './api-errors.js';
import { type Clock, settleWithin } from './clock.js';
import { BACKOFF, type Requeue } from './error-policy.js';
import { objectKey, type StoreListener } from './informer-supervisor.js';
import { jsonEqual } from './json-merge-patch.js';
import { handleKey, type KeyHandlerDeps } from './key-handler.js';
import { LeadershipFence } from './leadership-fence.js';
import { type ControllerMetrics, ReconcileResult } from './metrics.js';
import type { RateLimiter } from './rate-limiter.js';
import { WorkQueue } from './work-queue.js';

export interface ControllerLoopOptions {
  readonly handler: KeyHandlerDeps;
  readonly clock: Clock;
  readonly limiter: RateLimiter<string>;
  readonly metrics: ControllerMetrics;
  readonly logger: Logger;
  /** Keys reconciled at once (controller-runtime `MaxConcurrentReconciles`). */
  readonly concurrency: number;
  /** Asked before every write; false once leadership has lapsed (default: always true, no election). */
  readonly holdsLeadership?: () => boolean;
}

/** When a key interrupted by the end of a term is looked at again, unless a new term starts first. */
const INTERRUPTED_RETRY_MS = 1_000;

/** A change that only touched status (our own writes, mostly) needs no reconcile. */
export function onlyStatusChanged(old: CdmSinkProvision, next: CdmSinkProvision): boolean {
  const a = old.metadata;
  const b = next.metadata;
  return (
    a.generation === b.generation &&
    a.deletionTimestamp === b.deletionTimestamp &&
    jsonEqual(a.finalizers ?? [], b.finalizers ?? []) &&
    jsonEqual(a.labels ?? {}, b.labels ?? {}) &&
    jsonEqual(a.annotations ?? {}, b.annotations ?? {})
  );
}

/**
 * The work loop: informer notifications become keys in a stingy queue; while this replica leads,
 * up to `concurrency` keys are handled at once (p-queue), each by `handleKey`, and the result decides
 * the key's next turn. Only this class touches the queue (STYLE.md rule 7).
 */
export class ControllerLoop {
  readonly queue: WorkQueue<string>;
  private readonly pool: PQueue;
  private take: AbortController | undefined;
  private fence: LeadershipFence | undefined;
  private loop: Promise<void> | undefined;
  private handledCount = 0;

  constructor(private readonly options: ControllerLoopOptions) {
    this.queue = new WorkQueue(options.clock, options.limiter, options.metrics.queue);
    this.pool = new PQueue({ concurrency: options.concurrency });
  }

  /**
   * Feeds the queue from an informer. Status-only updates and the echoes of our own writes are
   * dropped: they carry nothing a reconcile has not seen, and reacting to them would loop.
   */
  readonly listener: StoreListener<CdmSinkProvision> = {
    added: (obj) => this.queue.add(objectKey(obj)),
    updated: (old, obj) => {
      const key = objectKey(obj);
      this.options.handler.ownWrites.observe(key, obj, () => {
        if (!onlyStatusChanged(old, obj)) this.queue.add(key);
      });
    },
    deleted: (obj) => this.queue.add(objectKey(obj)),
    resync: (key) => this.queue.add(key),
  };

  /** How many keys this loop has finished handling; tests use it to prove only the leader works. */
  handled(): number {
    return this.handledCount;
  }

  /** Begins taking keys under a new term of leadership (on becoming leader, or at start without leader election). */
  startWorkers(): void {
    if (this.take) return;
    this.take = new AbortController();
    this.fence = new LeadershipFence(this.options.holdsLeadership);
    this.loop = this.run(this.take.signal, this.fence);
  }

  /** Stops handing out keys; those in flight go on, still allowed to write. */
  async stopTaking(): Promise<void> {
    const take = this.take;
    if (!take) return;
    this.take = undefined;
    take.abort();
    await this.loop;
  }

  /**
   * Ends the current term: keys in flight skip their remaining writes (status, finalizer, Events), however
   * far along they are, whether or not the loop is still taking keys. Waits up to `waitMs` for the
   * writes already under way, so none lands after the Lease has been handed over; false if some did not finish.
   */
  async interrupt(waitMs: number): Promise<boolean> {
    const fence = this.fence;
    if (!fence) return true;
    fence.revoke();
    return fence.settled(this.options.clock, waitMs);
  }

  /** Waits up to `timeoutMs` for the keys in flight to finish; false (and a warning) when they did not. */
  async drain(timeoutMs: number): Promise<boolean> {
    const drained = await settleWithin(this.options.clock, timeoutMs, this.pool.onIdle());
    if (!drained)
      this.options.logger.warn({ inFlight: this.pool.pending }, 'gave up waiting for reconciles in flight');
    return drained;
  }

  shutDown(): void {
    this.queue.shutDown();
  }

  private async run(take: AbortSignal, fence: LeadershipFence): Promise<void> {
    const aborted = new Promise<void>((resolve) =>
      take.addEventListener('abort', () => resolve(), { once: true }),
    );
    while (!take.aborted) {
      if (this.pool.pending >= this.options.concurrency) {
        await Promise.race([
          new Promise<void>((resolve) => this.pool.once('next', () => resolve())),
          aborted,
        ]);
        continue;
      }
      const key = await this.queue.get(take);
      if (key === undefined) break;
      this.pool
        .add(() => this.process(key, fence))
        .catch((error: unknown) => {
          this.options.logger.error({ provision: key, err: error }, 'work loop failed on a key');
        });
    }
  }

  private async process(key: string, fence: LeadershipFence): Promise<void> {
    const { clock, logger, metrics } = this.options;
    const started = clock.monotonic();
    let requeue: Requeue;
    let error: unknown;
    let interrupted = false;
    metrics.activeWorkers(1);
    try {
      const result = await handleKey(key, this.options.handler, fence);
      ({ requeue, error } = result);
      interrupted = result.interrupted === true;
    } catch (thrown) {
      logFailure(logger, key, thrown);
      requeue = BACKOFF;
      error = thrown;
    } finally {
      metrics.activeWorkers(-1);
    }
    if (interrupted) {
      // Not ours to finish any more; keep the key for whoever leads next (maybe us again: a new term queues
      // everything at once). Later, not now: while leadership has lapsed but the step-down has not run
      // yet (a busy event loop), an immediate retry would spin through reconciles that cannot write.
      this.queue.done(key);
      this.queue.addAfter(key, INTERRUPTED_RETRY_MS);
      this.handledCount++;
      return;
    }
    let result: ReconcileResult = ReconcileResult.error;
    try {
      result = this.schedule(key, requeue, error !== undefined);
    } finally {
      this.queue.done(key);
      this.handledCount++;
    }
    if (error !== undefined) metrics.reconcileError();
    metrics.reconciled(result, (clock.monotonic() - started) / 1000);
  }

  /** controller-runtime `reconcileHandler`: one switch from the decision to the queue. */
  private schedule(key: string, requeue: Requeue, failed: boolean): ReconcileResult {
    switch (requeue.kind) {
      case 'backoff':
        this.queue.addRateLimited(key);
        return ReconcileResult.error;
      case 'requeue':
        this.queue.forget(key);
        if (requeue.afterMs <= 0) {
          this.queue.add(key);
          return failed ? ReconcileResult.error : ReconcileResult.requeue;
        }
        this.queue.addAfter(key, requeue.afterMs);
        return failed ? ReconcileResult.error : ReconcileResult.requeueAfter;
      case 'awaitChange':
        this.queue.forget(key);
        return failed ? ReconcileResult.error : ReconcileResult.success;
    }
  }
}

/**
 * A reconcile that threw: a Kubernetes API call the core does not own failed (status, finalizer), or a
 * bug. A refused call is the controller's RBAC (403) or credentials (401), which only a human fixes: it
 * is an error naming the call; the API's Status message says which verb on which resource. The raw
 * exception (headers, both encodings of the body) adds nothing to that.
 */
function logFailure(logger: Logger, key: string, error: unknown): void {
  const status = apiStatusCode(error);
  if (status === undefined) {
    logger.warn({ provision: key, err: error }, 'reconcile failed unexpectedly');
    return;
  }
  const apiError = describeApiError(error);
  if (status === 403)
    logger.error(
      { provision: key, status, apiError },
      `the Kubernetes API refused the controller: ${apiError}. Its ServiceAccount lacks a permission the manifests grant (manifests/rbac/); retrying with backoff`,
    );
  else if (status === 401)
    logger.error(
      { provision: key, status, apiError },
      `the Kubernetes API did not accept the controller's credentials: ${apiError}. Check its kubeconfig or ServiceAccount token; retrying with backoff`,
    );
  else
    logger.warn(
      { provision: key, status, apiError },
      `a Kubernetes API call failed: ${apiError}; retrying with backoff`,
    );
}
