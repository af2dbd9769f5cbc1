/**
 * One WATCH response: a chunked stream of newline-delimited `{"type","object"}` events. It replays the
 * collection's history after the requested resourceVersion (or lists current state as synthetic ADDED events
 * when none is given), then follows live writes, turning selector transitions into ADDED/DELETED as the
 * apiserver's watch cache does.
 */
import type { ServerResponse } from 'node:http';
import type { JsonObject } from './json.js';
import { apiVersionOf, asVersion, type ResourceType, storageKeyOf } from './resource-type.js';
import { apiErrors } from './status-errors.js';
import type { ObjectStore, StoreEvent } from './store.js';

export interface WatchRequest {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly matches: (obj: JsonObject) => boolean;
  /** Undefined, '' or '0' start from the current state; otherwise a parsed revision to replay after. */
  readonly resourceVersion: number | undefined;
  readonly allowBookmarks: boolean;
  readonly sendInitialEvents: boolean;
  readonly timeoutSeconds: number | undefined;
  readonly bookmarkIntervalMs: number;
}

type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** Stored objects are frozen, so their JSON can be shared by every watcher that sends them. */
const serialized = new WeakMap<JsonObject, string>();

function serialize(object: JsonObject): string {
  let json = serialized.get(object);
  if (json === undefined) {
    json = JSON.stringify(object);
    if (Object.isFrozen(object)) serialized.set(object, json);
  }
  return json;
}

export class WatchStream {
  private state: 'open' | 'dropped' | 'ended' = 'open';
  private readonly pending: string[] = [];
  private flushScheduled = false;
  private unsubscribe: (() => void) | undefined;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly res: ServerResponse,
    private readonly store: ObjectStore,
    private readonly request: WatchRequest,
    private readonly onFinished: (stream: WatchStream) => void,
  ) {}

  start(): void {
    const { res, request, store } = this;
    if (!res.socket || res.socket.destroyed) {
      // The client left while the request waited (e.g. an injected delay): 'close' has already fired.
      this.finish();
      return;
    }
    res.on('close', () => this.finish());
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache, private',
    });
    res.flushHeaders();
    res.socket.setNoDelay(true);
    const storageKey = storageKeyOf(request.type);
    if (request.resourceVersion === undefined || request.sendInitialEvents) {
      const scope = request.type.namespaced ? request.namespace : undefined;
      for (const obj of store.list(storageKey, scope)) if (request.matches(obj)) this.send('ADDED', obj);
      if (request.sendInitialEvents) this.sendBookmark(true);
    } else {
      const events = store.eventsAfter(storageKey, request.resourceVersion);
      if (!events) {
        const expired = apiErrors.expired(
          `too old resource version: ${request.resourceVersion} (${store.historyStart(storageKey)})`,
        );
        this.write('ERROR', expired.toStatus() as unknown as JsonObject);
        this.end();
        return;
      }
      for (const event of events) this.dispatch(event);
    }
    this.unsubscribe = store.subscribe(storageKey, (event) => this.dispatch(event));
    if (request.allowBookmarks) {
      this.timers.push(setInterval(() => this.sendBookmark(false), request.bookmarkIntervalMs));
    }
    if (request.timeoutSeconds !== undefined && request.timeoutSeconds > 0) {
      this.timers.push(setTimeout(() => this.end(), request.timeoutSeconds * 1000));
    }
  }

  /** Half-open: stop writing but keep the socket, so only a client-side watchdog can notice. */
  drop(): void {
    if (this.state !== 'open') return;
    this.flush();
    this.state = 'dropped';
    this.detach();
  }

  /** Ends the stream cleanly (terminating chunk), as a server-side timeout or restart would. */
  end(): void {
    if (this.state === 'ended') return;
    if (this.state === 'open') this.flush();
    this.state = 'ended';
    this.detach();
    this.res.end();
  }

  /** Tears the connection down without a clean end; used on server shutdown. */
  destroy(): void {
    this.state = 'ended';
    this.detach();
    this.res.destroy();
  }

  private finish(): void {
    this.state = 'ended';
    this.detach();
    this.onFinished(this);
  }

  private detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.length = 0;
  }

  private dispatch(event: StoreEvent): void {
    const { matches } = this.request;
    const now = matches(event.object);
    const before = event.prev !== undefined && matches(event.prev);
    if (event.type === 'ADDED') {
      if (now) this.send('ADDED', event.object);
    } else if (event.type === 'DELETED') {
      if (now) this.send('DELETED', event.object);
    } else if (now) {
      this.send(before ? 'MODIFIED' : 'ADDED', event.object);
    } else if (before) {
      // The object stopped matching the selector: to this watcher it is gone.
      this.send('DELETED', event.object);
    }
  }

  private send(type: WatchEventType, obj: JsonObject): void {
    this.write(type, asVersion(obj, this.request.type));
  }

  /** Bookmarks carry only kind, apiVersion and the revision the watcher is now known to be current at. */
  private sendBookmark(initialEventsEnd: boolean): void {
    const metadata: JsonObject = { resourceVersion: String(this.store.currentRevision) };
    if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    this.write('BOOKMARK', {
      kind: this.request.type.kind,
      apiVersion: apiVersionOf(this.request.type),
      metadata,
    });
  }

  private write(type: WatchEventType, object: JsonObject): void {
    if (this.state !== 'open') return;
    this.pending.push(`{"type":"${type}","object":${serialize(object)}}\n`);
    // Events produced in the same tick go out as one chunk: far fewer syscalls when seeding in bulk.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.res.writableEnded || this.res.destroyed) return;
    this.res.write(this.pending.join(''));
    this.pending.length = 0;
  }
}
