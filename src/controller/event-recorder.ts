import type { CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { CdmSinkProvision } from '../api/types.js';
import { redactSecrets } from '../errors/index.js';
import type { ReconcileEvent } from '../reconcile/types.js';
import { describeApiError, isNotFound } from './api-errors.js';
import type { Clock } from './clock.js';
import type { EventClient } from './kube-ports.js';

export interface EventRecorderOptions {
  readonly client: EventClient;
  /** `source.component` / `reportingComponent`. */
  readonly component: string;
  /** `reportingInstance`: this replica's identity. */
  readonly instance: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How many distinct events to remember for aggregation (client-go's cache holds 4096). */
  readonly maxEntries?: number;
}

interface Seen {
  readonly name: string;
  readonly namespace: string;
  count: number;
}

/** An Event `message` is capped server-side; keep well inside it. */
const MAX_MESSAGE = 1024;

/**
 * Emits core/v1 Events about a provision, the way client-go's recorder does: the first occurrence is
 * created; a repeat (same object, type, reason and message) bumps `count` and `lastTimestamp` on the
 * existing Event instead of creating another. Best effort: a failure is logged and never fails the
 * reconcile. Messages pass through secret redaction.
 */
export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private seq = 0;

  constructor(private readonly options: EventRecorderOptions) {}

  async record(provision: CdmSinkProvision, event: ReconcileEvent): Promise<void> {
    const message = redactSecrets(event.message).slice(0, MAX_MESSAGE);
    const { namespace = 'default', name, uid = '' } = provision.metadata;
    const id = [uid, namespace, name, event.type, event.reason, message].join('\u0000');
    const now = new Date(this.options.clock.now());
    try {
      const previous = this.seen.get(id);
      if (previous) {
        const count = previous.count + 1;
        try {
          await this.options.client.patch(previous.namespace, previous.name, {
            count,
            lastTimestamp: now.toISOString(),
          });
          previous.count = count;
          this.touch(id, previous);
          return;
        } catch (error) {
          // The Event expired (TTL, 1 h by default): start a new series below.
          if (!isNotFound(error)) throw error;
        }
      }
      const created = await this.options.client.create(namespace, this.build(provision, event, message, now));
      this.touch(id, { name: created.metadata?.name ?? '', namespace, count: 1 });
    } catch (error) {
      this.options.logger.warn(
        { err: describeApiError(error), provision: `${namespace}/${name}`, reason: event.reason },
        'could not record an Event',
      );
    }
  }

  private build(provision: CdmSinkProvision, event: ReconcileEvent, message: string, now: Date): CoreV1Event {
    const { namespace = 'default', name, uid, resourceVersion } = provision.metadata;
    // client-go names Events `<object>.<unix nanos in hex>`; the sequence keeps same-millisecond ones apart.
    const suffix = (BigInt(now.getTime()) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16);
    return {
      metadata: { name: `${name}.${suffix}`, namespace },
      involvedObject: {
        apiVersion: provision.apiVersion,
        kind: provision.kind,
        name,
        namespace,
        uid,
        resourceVersion,
      },
      type: event.type,
      reason: event.reason,
      message,
      source: { component: this.options.component },
      reportingComponent: this.options.component,
      reportingInstance: this.options.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
  }

  /** Re-inserting keeps the map in least-recently-used order, so the oldest entry is evicted first. */
  private touch(id: string, entry: Seen): void {
    this.seen.delete(id);
    this.seen.set(id, entry);
    const max = this.options.maxEntries ?? 4096;
    if (this.seen.size > max) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
