import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock, Timer } from './clock.js';
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
  readonly list: () => Promise<{ readonly items: T[]; readonly metadata?: { resourceVersion?: string } }>;
  readonly listener: StoreListener<T>;
  readonly clock: Clock;
  readonly logger: Logger;
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

/** client-node's Watch, reporting every line it receives (bookmarks included) and asking for bookmarks. */
class ActivityWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly onActivity: (phase: string, obj: unknown) => void,
    private readonly timeoutSeconds: number,
  ) {
    super(config);
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    // The 1.4 informer never sends these; without bookmarks a healthy idle watch is indistinguishable
    // from a dead one.
    const params = { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: this.timeoutSeconds };
    return super.watch(
      path,
      params,
      (phase, obj, raw) => {
        this.onActivity(phase, obj);
        callback(phase, obj, raw);
      },
      done,
    );
  }
}

/**
 * Keeps a list+watch of one collection alive and mirrors it into a store.
 *
 * Guarantees:
 * - Restarts after any error, with capped exponential backoff: client-node 1.4's informer stops for
 *   good on every non-410 error (notes/kubernetes-client.md §1.2).
 * - Restarts a watch that went silent for `watchdogMs` (a half-open connection never errors).
 * - Each (re)start uses a fresh informer and relists; objects that vanished meanwhile are reported
 *   as deleted, so nothing is missed across a gap.
 * - Hands every known key to `resync` once per period, so drift is found even when nothing changed.
 *
 * Caveats: the store holds the objects the server sent; never mutate them.
 */
export class InformerSupervisor<T extends ObjectWithMeta> {
  private readonly store = new Map<string, T>();
  private readonly backoff: ExponentialFailureRateLimiter<'restart'>;
  private readonly watchdogMs: number;
  private readonly resyncPeriodMs: number;
  private generation = 0;
  private informer: ListWatch<KubernetesObject> | undefined;
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
  }

  /** Starts listing and watching; does not wait for the first sync (see `waitForSync`). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.run();
    this.armWatchdog();
    this.armResync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    this.restartTimer?.cancel();
    this.watchdogTimer?.cancel();
    this.resyncTimer?.cancel();
    this.restartTimer = this.watchdogTimer = this.resyncTimer = undefined;
    const informer = this.informer;
    this.informer = undefined;
    await informer?.stop();
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

  private async run(): Promise<void> {
    const generation = ++this.generation;
    const current = () => generation === this.generation && !this.stopped;
    let listed = false;
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? randomBetween(300, 600);
    const watch = new ActivityWatch(
      this.options.kubeConfig,
      (phase, obj) => {
        if (!current()) return;
        this.sawWatchLine = true;
        this.touch();
        if (phase === 'ERROR' && (obj as { code?: unknown } | undefined)?.code === 410) this.expired(obj);
      },
      timeoutSeconds,
    );
    // ListWatch only reads metadata name, namespace and resourceVersion, which both shapes agree on.
    const informer = new ListWatch<KubernetesObject>(
      this.options.path,
      watch,
      async () => {
        const list = await this.options.list();
        if (current()) {
          listed = true;
          this.touch();
        }
        return list as unknown as KubernetesListObject<KubernetesObject>;
      },
      false,
    );
    informer.on('add', (obj) => current() && this.upsert(obj as T));
    informer.on('update', (obj) => current() && this.upsert(obj as T));
    informer.on('delete', (obj) => current() && this.remove(objectKey(obj)));
    informer.on('connect', () => current() && this.touch());
    // 1.4's stop() itself fires an error (AbortError); `current()` is false by then, so it is ignored.
    informer.on('error', (err) => current() && this.restart(err));
    this.informer = informer;
    this.generationStartedAt = this.options.clock.now();
    this.sawWatchLine = false;
    this.touch();
    try {
      await informer.start();
    } catch (error) {
      // Errors normally arrive through the `error` callback; this catches what escapes it (auth setup).
      if (current()) this.restart(error);
      return;
    }
    if (!current() || !listed) return;
    this.pruneMissing(informer);
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  /** After a relist by a fresh informer: whatever we still hold but the server no longer has is gone. */
  private pruneMissing(informer: ListWatch<KubernetesObject>): void {
    const present = new Set(informer.list().map(objectKey));
    for (const key of [...this.store.keys()]) if (!present.has(key)) this.remove(key);
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
   * holds). client-node's informer answers by re-listing on its own, no restart needed; said here because
   * frequent expiries mean watches that are down too long or a compaction interval that is too short.
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
    logger.warn(
      { informer: this.options.name, err: reason, delayMs: delay, restarts: this.restarts },
      'watch stopped; restarting',
    );
    this.generation++;
    const old = this.informer;
    this.informer = undefined;
    void old?.stop();
    this.restartTimer = clock.setTimer(delay, () => {
      this.restartTimer = undefined;
      if (!this.stopped) void this.run();
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

function randomBetween(min: number, max: number): number {
  return Math.floor(min + Math.random() * (max - min));
}
