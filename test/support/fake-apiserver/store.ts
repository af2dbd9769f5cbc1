/**
 * The fake's etcd: one global revision counter, a map of objects per storage collection, and a bounded event
 * history per collection that serves watch replay and consistent paginated lists.
 */
import type { JsonObject } from './json.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: ChangeType;
  readonly rv: number;
  /** The object after the change; for DELETED, the last stored state stamped with the deletion revision. */
  readonly object: JsonObject;
  /** The object before the change (absent for ADDED); lets watches detect selector transitions. */
  readonly prev: JsonObject | undefined;
}

export type StoreListener = (event: StoreEvent) => void;

class Collection {
  readonly objects = new Map<string, JsonObject>();
  readonly history: StoreEvent[] = [];
  /** Watches or continue tokens from a revision below this have lost events and get 410 Expired. */
  historyStart = 0;
  readonly listeners = new Set<StoreListener>();
}

export function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function keyOf(obj: JsonObject): string {
  const meta = obj.metadata as JsonObject;
  return objectKey(meta.namespace as string | undefined, meta.name as string);
}

/** Stored objects are shared with watch streams and list responses, so accidental mutation must fail loudly. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function withRevision(obj: JsonObject, rv: number): JsonObject {
  return deepFreeze({ ...obj, metadata: { ...(obj.metadata as JsonObject), resourceVersion: String(rv) } });
}

export class ObjectStore {
  private revision = 0;
  private readonly collections = new Map<string, Collection>();

  constructor(private readonly historyLimit: number) {}

  get currentRevision(): number {
    return this.revision;
  }

  private collection(storageKey: string): Collection {
    let c = this.collections.get(storageKey);
    if (!c) {
      c = new Collection();
      this.collections.set(storageKey, c);
    }
    return c;
  }

  get(storageKey: string, namespace: string | undefined, name: string): JsonObject | undefined {
    return this.collections.get(storageKey)?.objects.get(objectKey(namespace, name));
  }

  /** Objects in etcd key order (namespace, then name), optionally limited to one namespace. */
  list(storageKey: string, namespace?: string): JsonObject[] {
    return sortedValues(this.collections.get(storageKey)?.objects ?? new Map(), namespace);
  }

  historyStart(storageKey: string): number {
    return this.collection(storageKey).historyStart;
  }

  /** Events strictly after `rv`, or undefined when the window no longer reaches back that far. */
  eventsAfter(storageKey: string, rv: number): StoreEvent[] | undefined {
    const c = this.collection(storageKey);
    if (rv < c.historyStart) return undefined;
    return c.history.filter((e) => e.rv > rv);
  }

  /** The collection as it was at revision `rv` (rewinding the history), or undefined when compacted away. */
  snapshotAt(storageKey: string, rv: number, namespace?: string): JsonObject[] | undefined {
    const c = this.collection(storageKey);
    if (rv < c.historyStart) return undefined;
    const objects = new Map(c.objects);
    for (let i = c.history.length - 1; i >= 0; i--) {
      const e = c.history[i];
      if (!e || e.rv <= rv) break;
      if (e.type === 'ADDED' || !e.prev) objects.delete(keyOf(e.object));
      else objects.set(keyOf(e.prev), e.prev);
    }
    return sortedValues(objects, namespace);
  }

  insert(storageKey: string, obj: JsonObject): JsonObject {
    const stored = withRevision(obj, ++this.revision);
    this.collection(storageKey).objects.set(keyOf(stored), stored);
    this.record(storageKey, { type: 'ADDED', rv: this.revision, object: stored, prev: undefined });
    return stored;
  }

  replace(storageKey: string, prev: JsonObject, obj: JsonObject): JsonObject {
    const stored = withRevision(obj, ++this.revision);
    this.collection(storageKey).objects.set(keyOf(stored), stored);
    this.record(storageKey, { type: 'MODIFIED', rv: this.revision, object: stored, prev });
    return stored;
  }

  remove(storageKey: string, prev: JsonObject): JsonObject {
    const final = withRevision(prev, ++this.revision);
    this.collection(storageKey).objects.delete(keyOf(prev));
    this.record(storageKey, { type: 'DELETED', rv: this.revision, object: final, prev });
    return final;
  }

  subscribe(storageKey: string, listener: StoreListener): () => void {
    const listeners = this.collection(storageKey).listeners;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /** Forgets every collection's history, like an etcd compaction at the current revision. */
  compact(): void {
    for (const c of this.collections.values()) {
      c.history.length = 0;
      c.historyStart = this.revision;
    }
  }

  countInNamespace(storageKey: string, namespace: string): number {
    let count = 0;
    const prefix = `${namespace}/`;
    for (const key of this.collections.get(storageKey)?.objects.keys() ?? [])
      if (key.startsWith(prefix)) count++;
    return count;
  }

  private record(storageKey: string, event: StoreEvent): void {
    const c = this.collection(storageKey);
    c.history.push(event);
    while (c.history.length > this.historyLimit) {
      const dropped = c.history.shift();
      if (dropped) c.historyStart = dropped.rv;
    }
    for (const listener of [...c.listeners]) listener(event);
  }
}

function sortedValues(objects: Map<string, JsonObject>, namespace: string | undefined): JsonObject[] {
  const prefix = namespace === undefined ? undefined : `${namespace}/`;
  return [...objects.entries()]
    .filter(([key]) => prefix === undefined || key.startsWith(prefix))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, obj]) => obj);
}
