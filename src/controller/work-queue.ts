import type { Clock, Timer } from './clock.js';
import { noopQueueMetrics, type ProcessingTimes, type QueueMetrics } from './metrics.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * A rate-limited delaying work queue with client-go semantics (`util/workqueue/queue.go`,
 * `delaying_queue.go`, `rate_limiting_queue.go`):
 *
 * Guarantees:
 * - Fair: keys come out in the order they became ready.
 * - Stingy: a key is queued at most once however often it is added, and it is never handed out while
 *   it is being processed. A key added while processing is handed out again once, after `done`.
 * - Delays: `addAfter` keeps the earliest pending deadline per key; `addRateLimited` asks the rate
 *   limiter, and `forget` resets that key's backoff.
 * - A key handed out for processing drops its pending delayed add: the processing decides when it runs
 *   next, so a periodic resync and a requeue-after do not both run it (client-go would run it twice).
 *
 * Metrics follow client-go's: the queue wait runs from the add that made a key dirty (a key added while it
 * is processed waits from that add, through the rest of the processing), the work time from get to done.
 *
 * Caveats: callers must pair every `get` with `done`; a key that is never `done` is never handed out again.
 */
export class WorkQueue<K = string> {
  private readonly ready: K[] = [];
  // Times below are `clock.monotonic()`: a wall-clock step must not make a wait negative or a key look stuck.
  /** Keys added and not yet handed out, with the time they were added. */
  private readonly dirty = new Map<K, number>();
  /** Keys handed out and not yet done, with the time they were handed out. */
  private readonly processing = new Map<K, number>();
  private readonly waiting = new Map<K, { readonly at: number; readonly timer: Timer }>();
  private readonly getters: Array<(key: K | undefined) => void> = [];
  private shuttingDown = false;

  constructor(
    private readonly clock: Clock,
    private readonly limiter: RateLimiter<K>,
    private readonly metrics: QueueMetrics = noopQueueMetrics,
  ) {
    metrics.watch(this);
  }

  /** Marks `key` as needing work now. */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics.added();
    this.dirty.set(key, this.clock.monotonic());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds `key` after `ms`; an earlier pending deadline for the same key wins. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const pending = this.waiting.get(key);
    if (pending && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.clock.setTimer(ms, () => {
      this.waiting.delete(key);
      this.add(key);
    });
    this.waiting.set(key, { at, timer });
  }

  /** Adds `key` after its backoff delay; each call counts a failure. */
  addRateLimited(key: K): void {
    if (this.shuttingDown) return;
    this.metrics.retried();
    this.addAfter(key, this.limiter.when(key));
  }

  /** Resets `key`'s backoff; call it after a success. */
  forget(key: K): void {
    this.limiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.limiter.numRequeues(key);
  }

  /**
   * The next ready key, marked as processing; waits when none is ready. Resolves `undefined` when the
   * queue shuts down or `signal` aborts, so a worker can stop taking keys without shutting the queue.
   */
  get(signal?: AbortSignal): Promise<K | undefined> {
    if (this.shuttingDown || signal?.aborted) return Promise.resolve(undefined);
    const key = this.take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => {
      const getter = (k: K | undefined) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(k);
      };
      const onAbort = () => {
        const index = this.getters.indexOf(getter);
        if (index >= 0) this.getters.splice(index, 1);
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.getters.push(getter);
    });
  }

  /**
   * Ends processing of `key`; if it was added meanwhile it becomes ready again. A key not being processed
   * is ignored: it may already sit in the ready queue, and pushing it again would hand it out twice.
   */
  done(key: K): void {
    const startedAt = this.processing.get(key);
    if (startedAt === undefined) return;
    this.processing.delete(key);
    this.metrics.worked((this.clock.monotonic() - startedAt) / 1000);
    if (this.dirty.has(key)) this.push(key);
  }

  /** Ready keys (not counting those being processed or waiting for a delay). */
  len(): number {
    return this.ready.length;
  }

  isProcessing(key: K): boolean {
    return this.processing.has(key);
  }

  /** How long the keys being processed have been at it, now; `longestKey` is the one that has run longest. */
  processingTimes(): ProcessingTimes & { readonly longestKey: K | undefined } {
    const now = this.clock.monotonic();
    let unfinishedMs = 0;
    let longestMs = 0;
    let longestKey: K | undefined;
    for (const [key, startedAt] of this.processing) {
      const ms = now - startedAt;
      unfinishedMs += ms;
      if (longestKey === undefined || ms > longestMs) {
        longestMs = ms;
        longestKey = key;
      }
    }
    return { unfinishedSeconds: unfinishedMs / 1000, longestSeconds: longestMs / 1000, longestKey };
  }

  /** Keys waiting for a delay, with the time each becomes ready. */
  pendingDeadlines(): ReadonlyMap<K, number> {
    return new Map([...this.waiting].map(([k, w]) => [k, w.at]));
  }

  /** Stops accepting keys, drops pending delays and releases every waiting `get`. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) timer.cancel();
    this.waiting.clear();
    for (const getter of this.getters.splice(0)) getter(undefined);
  }

  private push(key: K): void {
    const getter = this.getters.shift();
    if (getter) {
      this.startProcessing(key);
      getter(key);
      return;
    }
    this.ready.push(key);
    this.metrics.depth(this.ready.length);
  }

  private take(): K | undefined {
    const key = this.ready.shift();
    if (key === undefined) return undefined;
    this.metrics.depth(this.ready.length);
    this.startProcessing(key);
    return key;
  }

  private startProcessing(key: K): void {
    const now = this.clock.monotonic();
    const addedAt = this.dirty.get(key);
    if (addedAt !== undefined) this.metrics.queued((now - addedAt) / 1000);
    this.dirty.delete(key);
    this.processing.set(key, now);
    this.waiting.get(key)?.timer.cancel();
    this.waiting.delete(key);
  }
}
