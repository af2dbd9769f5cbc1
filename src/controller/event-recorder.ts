import type { CoreV1Event, V1ObjectReference } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { CdmSinkProvision } from '../api/types.js';
import { redactSecrets } from '../errors/index.js';
import type { ReconcileEvent } from '../reconcile/types.js';
import { describeApiError, isNotFound } from './api-errors.js';
import { type Clock, settleWithin } from './clock.js';
import type { EventClient } from './kube-ports.js';
import type { WriteFence } from './leadership-fence.js';

export interface EventRecorderOptions {
  readonly client: EventClient;
  /** `source.component` / `reportingComponent`. */
  readonly component: string;
  /** `reportingInstance`: this replica's identity. */
  readonly instance: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * How many distinct events to remember for aggregation, and how many objects' spam buckets to keep
   * (client-go's caches hold 4096 each).
   */
  readonly maxEntries?: number;
  /** Events held for sending before new ones are dropped (client-go `maxQueuedEvents`, 1000). */
  readonly maxQueued?: number;
  /** Events one object may get in a burst (client-go `defaultSpamBurst`, 25). */
  readonly spamBurst?: number;
  /** Time to earn back one token once the burst is spent (client-go `defaultSpamQPS` = 1/300 s). */
  readonly spamRefillMs?: number;
}

interface Seen {
  readonly name: string;
  readonly namespace: string;
  count: number;
}

interface Bucket {
  tokens: number;
  refilledAt: number;
}

/** What the sender needs, captured at `record` time so the timestamps are when it happened. */
interface Queued {
  readonly involvedObject: V1ObjectReference & { name: string; namespace: string };
  readonly event: ReconcileEvent;
  readonly message: string;
  readonly at: Date;
  readonly fence: WriteFence | undefined;
}

/** An Event `message` is capped server-side; keep well inside it. */
const MAX_MESSAGE = 1024;
/** Drops are expected under load; a line per drop would itself be the spam. */
const DROP_LOG_INTERVAL_MS = 60_000;

/**
 * Emits core/v1 Events about a provision the way client-go's broadcaster and correlator do, because
 * Events are diagnostics and must never cost a worker its time or the API server its headroom:
 *
 * - `record` only enqueues, so a slow or partitioned API server never stalls a reconcile; a single
 *   sender drains the bounded queue (client-go `maxQueuedEvents`), in order, so the count bumps of one
 *   series never race each other.
 * - A per-object token bucket (client-go `EventSourceObjectSpamFilter`: burst 25, one more per 300 s)
 *   keeps a key stuck in a fast retry loop from flooding etcd with writes.
 * - A repeat (same object, type, reason and message) bumps `count` and `lastTimestamp` on the existing
 *   Event rather than creating another, as the correlator's aggregation does.
 * - An optional fence (the leadership fence) is checked just before each write, so a replica that lost
 *   its lease stops speaking for the controller even for events it queued while it still led.
 *
 * Best effort throughout: failures are logged and never reach the caller. Messages are redacted before
 * they are queued, so secrets are not even held in memory waiting to be sent.
 */
export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly queue: Queued[] = [];
  private readonly idleWaiters: Array<() => void> = [];
  private seq = 0;
  private sending = false;
  private inFlight = false;
  private closed = false;
  private droppedFull = 0;
  private droppedSpam = 0;
  private lastDropLog = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: EventRecorderOptions) {}

  /**
   * Queues an event for sending and returns at once. Dropped (silently, bar a periodic debug line) when
   * the object's spam budget is spent, the queue is full, `fence` is already revoked, or the recorder
   * is closed; if `fence` is revoked before the event's turn comes, it is dropped then.
   */
  record(provision: CdmSinkProvision, event: ReconcileEvent, fence?: WriteFence): void {
    if (this.closed || fence?.revoked) return;
    try {
      const { namespace = 'default', name, uid, resourceVersion } = provision.metadata;
      const involvedObject = {
        apiVersion: provision.apiVersion,
        kind: provision.kind,
        name,
        namespace,
        uid,
        resourceVersion,
      };
      // Budgets are durations, so they run on the monotonic clock; the Event's timestamp is wall time.
      const elapsed = this.options.clock.monotonic();
      if (!this.takeToken(involvedObject, elapsed)) {
        this.droppedSpam++;
        this.logDrops(elapsed);
        return;
      }
      if (this.pending() >= (this.options.maxQueued ?? 1000)) {
        this.droppedFull++;
        this.logDrops(elapsed);
        return;
      }
      const message = redactSecrets(event.message).slice(0, MAX_MESSAGE);
      this.queue.push({ involvedObject, event, message, at: new Date(this.options.clock.now()), fence });
      this.startSender();
    } catch (error) {
      this.options.logger.warn(
        { err: describeApiError(error), reason: event.reason },
        'could not queue an Event',
      );
    }
  }

  /** Events accepted and not yet finished: queued, plus the one being written. */
  pending(): number {
    return this.queue.length + (this.inFlight ? 1 : 0);
  }

  /** Resolves once everything accepted so far has been sent (or dropped), or after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    if (this.pending() === 0) return;
    let waiter!: () => void;
    const idle = new Promise<void>((resolve) => {
      waiter = resolve;
      this.idleWaiters.push(resolve);
    });
    await settleWithin(this.options.clock, timeoutMs, idle);
    // On a timeout, give up our place among the idle waiters.
    const index = this.idleWaiters.indexOf(waiter);
    if (index >= 0) this.idleWaiters.splice(index, 1);
  }

  /**
   * Stops accepting events, gives the queue until `timeoutMs` to drain, then drops the rest; a write
   * already in flight cannot be recalled (the port takes no signal) and is left to settle on its own.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    await this.flush(timeoutMs);
    const left = this.queue.length;
    this.queue.length = 0;
    if (left > 0) this.options.logger.debug({ dropped: left }, 'dropped unsent Events on shutdown');
    if (!this.inFlight) this.notifyIdle();
  }

  /** client-go `getSpamKey`: source and involved object only, so varying the reason buys no extra budget. */
  private takeToken(object: V1ObjectReference, now: number): boolean {
    const key = [
      this.options.component,
      object.kind,
      object.namespace,
      object.name,
      object.uid,
      object.apiVersion,
    ].join('\u0000');
    const burst = this.options.spamBurst ?? 25;
    const refillMs = this.options.spamRefillMs ?? 300_000;
    const bucket = this.buckets.get(key) ?? { tokens: burst, refilledAt: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.refilledAt) / refillMs);
    bucket.refilledAt = now;
    touch(this.buckets, key, bucket, this.options.maxEntries ?? 4096);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private logDrops(now: number): void {
    if (now - this.lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this.lastDropLog = now;
    this.options.logger.debug(
      { queueFull: this.droppedFull, spamFiltered: this.droppedSpam },
      'dropped Events since the last report',
    );
    this.droppedFull = 0;
    this.droppedSpam = 0;
  }

  private startSender(): void {
    if (this.sending) return;
    this.sending = true;
    // Deferred so `record` does no I/O of its own, even the synchronous start of a request.
    queueMicrotask(() => {
      this.drain().catch((error: unknown) => {
        this.options.logger.warn({ err: describeApiError(error) }, 'the Event sender stopped unexpectedly');
      });
    });
  }

  private async drain(): Promise<void> {
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        this.inFlight = true;
        try {
          await this.send(next);
        } finally {
          this.inFlight = false;
        }
      }
    } finally {
      this.sending = false;
      this.notifyIdle();
    }
  }

  private notifyIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async send(item: Queued): Promise<void> {
    const { involvedObject, event, message, at, fence } = item;
    const { namespace, name, uid = '' } = involvedObject;
    const id = [uid, namespace, name, event.type, event.reason, message].join('\u0000');
    const max = this.options.maxEntries ?? 4096;
    try {
      const previous = this.seen.get(id);
      if (previous) {
        if (fence?.revoked) return;
        const count = previous.count + 1;
        try {
          await this.options.client.patch(previous.namespace, previous.name, {
            count,
            lastTimestamp: at.toISOString(),
          });
          previous.count = count;
          touch(this.seen, id, previous, max);
          return;
        } catch (error) {
          // The Event expired (TTL, 1 h by default): start a new series below.
          if (!isNotFound(error)) throw error;
        }
      }
      if (fence?.revoked) return;
      const created = await this.options.client.create(namespace, this.build(item));
      touch(this.seen, id, { name: created.metadata?.name ?? '', namespace, count: 1 }, max);
    } catch (error) {
      this.options.logger.warn(
        { err: describeApiError(error), provision: `${namespace}/${name}`, reason: event.reason },
        'could not record an Event',
      );
    }
  }

  private build({ involvedObject, event, message, at }: Queued): CoreV1Event {
    // client-go names Events `<object>.<unix nanos in hex>`; the sequence keeps same-millisecond ones apart.
    const suffix = (BigInt(at.getTime()) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16);
    return {
      metadata: { name: `${involvedObject.name}.${suffix}`, namespace: involvedObject.namespace },
      involvedObject,
      type: event.type,
      reason: event.reason,
      message,
      source: { component: this.options.component },
      reportingComponent: this.options.component,
      reportingInstance: this.options.instance,
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
    };
  }
}

/** Re-inserting keeps the map in least-recently-used order, so the oldest entry is evicted first. */
function touch<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}
