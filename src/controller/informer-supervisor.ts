import { type KubeConfig, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { untilAborted } from './abortable.js';
import { type Clock, sleep, type Timer } from './clock.js';
import type { InformerMetrics } from './metrics.js';
import { ExponentialFailureRateLimiter } from './rate-limiter.js';

/**
 * The little of an object the supervisor reads. Our CR types describe the JSON as it is (timestamps are
 * strings), where client-node's `V1ObjectMeta` claims `Date`, so they are not `KubernetesObject`s.
 */
export interface ObjectWithMeta {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
  };
}

/** `namespace/name`, the work queue's key (controller-runtime `NamespacedName`). */
export function objectKey(obj: ObjectWithMeta): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

export interface StoreListener<T> {
  added(obj: T): void;
  /** `old` is our previous copy, so listeners can tell status-only changes apart. */
  updated(old: T, obj: T): void;
  deleted(obj: T): void;
  /** Every known key, once per resync period. */
  resync(key: string): void;
}

export interface InformerSupervisorOptions<T extends ObjectWithMeta> {
  readonly name: string;
  readonly kubeConfig: KubeConfig;
  /** Collection path without query, e.g. `/apis/g/v/namespaces/ns/plural`. */
  readonly path: string;
  /** The LIST call; it should give up when `signal` aborts (stop, restart), though its answer is ignored then anyway. */
  readonly list: (
    signal: AbortSignal,
  ) => Promise<{ readonly items: T[]; readonly metadata?: { resourceVersion?: string } }>;
  readonly listener: StoreListener<T>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: InformerMetrics;
  /** How often every known key is handed to `listener.resync` (default 10 min). */
  readonly resyncPeriodMs?: number;
  /** Restart a watch that showed no sign of life (event or bookmark) for this long (default 3 min). */
  readonly watchdogMs?: number;
  /** Restart backoff after errors (kube-rs watcher default: 800 ms → 30 s). */
  readonly restartBaseMs?: number;
  readonly restartCapMs?: number;
  /** Server-side watch timeout; the server ends the watch cleanly and it resumes from its resourceVersion. */
  readonly watchTimeoutSeconds?: number;
}

/** A watch's stream ended with an `ERROR` event other than 410 Gone; carries the apiserver's `Status`. */
class WatchStatusError extends Error {
  readonly code: unknown;
  readonly reason: unknown;

  constructor(status: { readonly message?: unknown; readonly code?: unknown; readonly reason?: unknown }) {
    super(`watch error event: ${String(status.message ?? status.reason ?? 'unknown')}`);
    this.name = 'WatchStatusError';
    this.code = status.code;
    this.reason = status.reason;
  }
}

/**
 * Keeps a list+watch of one collection alive and mirrors it into a store.
 *
 * It drives list → watch → re-watch itself instead of client-node 1.4's `ListWatch`, which stops for good
 * on every non-410 error, cannot cancel a LIST in flight (a stopped informer still opened its watch when
 * the LIST returned), and re-watches from a callback whose promise nobody catches (a failing credential
 * refresh became an unhandled rejection, which exits the process).
 *
 * Guarantees:
 * - Restarts after any error, with capped exponential backoff: failed LISTs, failed or refused watches,
 *   errors while reopening a watch (credential refresh, exec/OIDC plugins, token files), watch `ERROR`
 *   events other than 410, and a listener that throws. Backoff starts over after a healthy generation.
 * - Restarts a watch that went silent for `watchdogMs` (a half-open connection never errors).
 * - A watch the server ends cleanly (`timeoutSeconds`, apiserver restart) resumes from the last
 *   resourceVersion seen, bookmarks included, without a relist; 410 Gone relists instead.
 * - Each (re)start and each relist replaces the store: objects that vanished meanwhile are reported as
 *   deleted, so nothing is missed across a gap.
 * - `stop()` and every restart cancel the generation's pending LIST and close its watch; a superseded
 *   generation never opens a watch nor touches the store, and once `stop()` resolves the listener hears
 *   nothing more. A watch request already sent is closed the moment its response arrives, as client-node
 *   hands out a watch's AbortController only then.
 * - Hands every known key to `resync` once per period, so drift is found even when nothing changed.
 *
 * Caveats: the store holds the objects the server sent; never mutate them.
 */
export class InformerSupervisor<T extends ObjectWithMeta> {
  private readonly store = new Map<string, T>();
  private readonly backoff: ExponentialFailureRateLimiter<'restart' | 'reopen'>;
  private readonly watchdogMs: number;
  private readonly resyncPeriodMs: number;
  private readonly watcher: Watch;
  /** Aborting it ends the current generation: its LIST, its watch, and everything it would do next. */
  private generation: AbortController | undefined;
  private running: Promise<void> | undefined;
  private lastActivity = 0;
  private generationStartedAt = 0;
  private sawWatchLine = false;
  private restartTimer: Timer | undefined;
  private watchdogTimer: Timer | undefined;
  private resyncTimer: Timer | undefined;
  private stopped = true;
  private synced = false;
  private readonly syncWaiters: Array<() => void> = [];
  private restarts = 0;
  private expirations = 0;

  constructor(private readonly options: InformerSupervisorOptions<T>) {
    this.backoff = new ExponentialFailureRateLimiter(
      options.restartBaseMs ?? 800,
      options.restartCapMs ?? 30_000,
    );
    this.watchdogMs = options.watchdogMs ?? 180_000;
    this.resyncPeriodMs = options.resyncPeriodMs ?? 600_000;
    this.watcher = new Watch(options.kubeConfig);
  }

  /** Starts listing and watching; does not wait for the first sync (see `waitForSync`). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.running = this.run();
    this.armWatchdog();
    this.armResync();
  }

  /** Cancels the pending LIST or open watch; resolves once the current generation has wound down. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.restartTimer?.cancel();
    this.watchdogTimer?.cancel();
    this.resyncTimer?.cancel();
    this.restartTimer = this.watchdogTimer = this.resyncTimer = undefined;
    this.generation?.abort();
    this.generation = undefined;
    await this.running;
  }

  /** True once the first list has been stored. */
  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  keys(): string[] {
    return [...this.store.keys()];
  }

  /** How many times the watch was restarted (errors and watchdog); for tests and logs. */
  restartCount(): number {
    return this.restarts;
  }

  /** One generation: list, then watch and re-watch until an error, a restart or `stop()`. Never rejects. */
  private async run(): Promise<void> {
    const generation = new AbortController();
    this.generation = generation;
    const { signal } = generation;
    this.generationStartedAt = this.options.clock.now();
    this.sawWatchLine = false;
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? randomBetween(300, 600);
    try {
      let resourceVersion: string | undefined;
      for (;;) {
        resourceVersion ??= await this.relist(signal);
        const ended = await this.watchFrom(resourceVersion, timeoutSeconds, signal);
        resourceVersion = ended.resumeFrom;
        if (ended.veryShort) await this.pauseBeforeReopening(signal);
        else this.backoff.forget('reopen');
      }
    } catch (error) {
      // A stopped or superseded generation fails with its own abort; that is no reason to restart.
      if (!signal.aborted) this.restart(error);
    }
  }

  /**
   * client-go's "very short watch": something in between (a proxy, a server shutting down) ends each
   * watch as soon as it opens, with nothing sent. Reopening at once would hammer it in a tight loop, so
   * the next one waits, with the restart backoff; nothing was lost, so no relist.
   */
  private async pauseBeforeReopening(signal: AbortSignal): Promise<void> {
    const delay = this.backoff.when('reopen');
    this.options.logger.warn(
      { informer: this.options.name, delayMs: delay },
      'watch ended as soon as it opened; waiting before reopening it',
    );
    await sleep(this.options.clock, delay, signal);
  }

  /** Lists and replaces the store with the result; returns the resourceVersion to watch from. */
  private async relist(signal: AbortSignal): Promise<string> {
    this.touch();
    const list = await untilAborted(this.options.list(signal), signal);
    signal.throwIfAborted();
    this.touch();
    const present = new Set<string>();
    for (const obj of list.items) {
      present.add(objectKey(obj));
      this.upsert(obj);
    }
    for (const key of [...this.store.keys()]) if (!present.has(key)) this.remove(key);
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
    return list.metadata?.resourceVersion ?? '';
  }

  /**
   * Watches from `resourceVersion` until the stream ends. Resolves with the resourceVersion to resume
   * from after a clean end, or `undefined` when the server no longer has that history (410: relist);
   * rejects on errors and when `signal` aborts.
   */
  private watchFrom(resourceVersion: string, timeoutSeconds: number, signal: AbortSignal): Promise<WatchEnd> {
    this.touch();
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      let latest = resourceVersion;
      let connection: AbortController | undefined;
      let ended = false;
      let lines = 0;
      const openedAt = this.options.clock.monotonic();
      const end = (settle: () => void) => {
        if (ended) return;
        ended = true;
        signal.removeEventListener('abort', onAbort);
        connection?.abort();
        settle();
      };
      const onAbort = () => end(() => reject(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });

      const onLine = (type: string, obj: unknown) => {
        if (ended) return;
        lines++;
        this.touch();
        if (type === 'ERROR') {
          const status = (obj ?? {}) as { message?: unknown; code?: unknown; reason?: unknown };
          if (status.code === 410) {
            this.expired(status);
            end(() => resolve({ resumeFrom: undefined, veryShort: false }));
          } else {
            end(() => reject(new WatchStatusError(status)));
          }
          return;
        }
        this.sawWatchLine = true;
        try {
          if (type === 'ADDED' || type === 'MODIFIED') this.upsert(obj as T);
          else if (type === 'DELETED') this.remove(objectKey(obj as T));
        } catch (error) {
          // client-node swallows what the line callback throws; the store and the listener would part ways.
          end(() => reject(error));
          return;
        }
        const next = (obj as ObjectWithMeta | undefined)?.metadata?.resourceVersion;
        if (next) latest = next;
      };
      const onDone = (err: unknown) => {
        const lasted = this.options.clock.monotonic() - openedAt;
        if (!err)
          end(() => resolve({ resumeFrom: latest, veryShort: lines === 0 && lasted < VERY_SHORT_WATCH_MS }));
        else if (isGone(err)) {
          this.expired(err);
          end(() => resolve({ resumeFrom: undefined, veryShort: false }));
        } else end(() => reject(err));
      };
      // The 1.4 informer never asks for bookmarks; without them a healthy idle watch is indistinguishable
      // from a dead one, and they keep `latest` fresh so a resumed watch rarely meets 410.
      const params = { resourceVersion, allowWatchBookmarks: true, timeoutSeconds };
      // Rejects before any request when the credentials cannot be applied (exec plugin, token file).
      this.watcher.watch(this.options.path, params, onLine, onDone).then(
        (controller) => {
          connection = controller;
          if (ended) controller.abort();
        },
        (error: unknown) => end(() => reject(error)),
      );
    });
  }

  private upsert(obj: T): void {
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    this.store.set(key, obj);
    if (old) this.options.listener.updated(old, obj);
    else this.options.listener.added(obj);
  }

  private remove(key: string): void {
    const old = this.store.get(key);
    if (!old) return;
    this.store.delete(key);
    this.options.listener.deleted(old);
  }

  private touch(): void {
    this.lastActivity = this.options.clock.now();
  }

  /**
   * The watch resumed from a resourceVersion etcd has compacted away (or the watch cache no longer
   * holds). Answered by a relist, no restart needed; said here because frequent expiries mean watches
   * that are down too long or a compaction interval that is too short.
   */
  private expired(status: unknown): void {
    this.expirations++;
    this.options.logger.info(
      {
        informer: this.options.name,
        message: (status as { message?: unknown }).message,
        expirations: this.expirations,
      },
      'watch expired (410 Gone); re-listing',
    );
  }

  private restart(reason: unknown): void {
    if (this.stopped || this.restartTimer) return;
    const { clock, logger } = this.options;
    const healthy = this.sawWatchLine || clock.now() - this.generationStartedAt >= 120_000;
    if (healthy) this.backoff.forget('restart');
    const delay = this.backoff.when('restart');
    this.restarts++;
    this.options.metrics?.watchRestarted(this.options.name);
    logger.warn(
      { informer: this.options.name, err: reason, delayMs: delay, restarts: this.restarts },
      'watch stopped; restarting',
    );
    this.generation?.abort();
    this.generation = undefined;
    this.restartTimer = clock.setTimer(delay, () => {
      this.restartTimer = undefined;
      if (!this.stopped) this.running = this.run();
    });
  }

  private armWatchdog(): void {
    const due = this.lastActivity + this.watchdogMs - this.options.clock.now();
    this.watchdogTimer = this.options.clock.setTimer(Math.max(due, 1), () => {
      if (this.stopped) return;
      const silentFor = this.options.clock.now() - this.lastActivity;
      if (silentFor >= this.watchdogMs && !this.restartTimer) {
        this.restart(new Error(`no watch event or bookmark for ${silentFor} ms`));
        this.touch();
      }
      this.armWatchdog();
    });
  }

  private armResync(): void {
    this.resyncTimer = this.options.clock.setTimer(this.resyncPeriodMs, () => {
      if (this.stopped) return;
      for (const key of this.store.keys()) this.options.listener.resync(key);
      this.armResync();
    });
  }
}

/** 410 as client-node reports it: `statusCode` when the watch request itself was refused, `code` in a Status. */
function isGone(err: unknown): boolean {
  const { statusCode, code } = (err ?? {}) as { statusCode?: unknown; code?: unknown };
  return statusCode === 410 || code === 410;
}

/** How a watch ended: where to resume (undefined: relist), and whether it ended as soon as it opened. */
interface WatchEnd {
  readonly resumeFrom: string | undefined;
  readonly veryShort: boolean;
}

/** A watch that ends cleanly this soon, having sent nothing, is reopened only after a pause (client-go: 1 s). */
const VERY_SHORT_WATCH_MS = 1_000;

function randomBetween(min: number, max: number): number {
  return Math.floor(min + Math.random() * (max - min));
}
