import type { CdmSinkProvision } from '../api/types.js';

interface Entry {
  /** resourceVersions our writes replaced: the cache showing one of them is behind us. */
  readonly superseded: Set<string>;
  /** resourceVersions our writes produced: a watch event carrying one tells us nothing new. */
  readonly produced: Set<string>;
  readonly latest: CdmSinkProvision;
}

/** Watch events that arrived while one of our writes to the same key was still waiting for its response. */
interface InFlight {
  writes: number;
  readonly held: Array<{ readonly obj: CdmSinkProvision; readonly foreign: () => void }>;
}

/**
 * Read-your-own-writes over the informer cache. After we patch an object (finalizer, status) the
 * cache still holds the older copy until the watch delivers ours; a reconcile that read that copy
 * would recompute status from stale conditions and write again, and the watch event for our own
 * write would trigger a pass that has nothing to do.
 *
 * Our writes are recognised by the resourceVersion the write returned, never by arrival order: the
 * watch often delivers the echo of a PATCH before the PATCH response arrives, so an event seen while a
 * write to its key is in flight is held and classified once that write has answered.
 *
 * Guarantees: as soon as the cache holds a version we did not write (someone else's change) the
 * entry is dropped and the cache wins again, so this never hides a foreign change; a held event is
 * reported foreign when the write fails or produced another version.
 */
export class OwnWrites {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, InFlight>();

  /** Runs one of our writes to `key`, recording what it produced; `undefined` means nothing was written. */
  async track(
    key: string,
    before: CdmSinkProvision,
    write: () => Promise<CdmSinkProvision | undefined>,
  ): Promise<CdmSinkProvision | undefined> {
    const pending = this.inFlight.get(key) ?? { writes: 0, held: [] };
    pending.writes++;
    this.inFlight.set(key, pending);
    try {
      const after = await write();
      if (after) this.record(key, before, after);
      return after;
    } finally {
      if (--pending.writes === 0) {
        this.inFlight.delete(key);
        for (const { obj, foreign } of pending.held.splice(0)) this.observe(key, obj, foreign);
      }
    }
  }

  record(key: string, before: CdmSinkProvision, after: CdmSinkProvision): void {
    const beforeRv = before.metadata.resourceVersion;
    const afterRv = after.metadata.resourceVersion;
    if (!beforeRv || !afterRv || beforeRv === afterRv) return;
    const entry = this.entries.get(key);
    const chained = entry && entry.latest.metadata.resourceVersion === beforeRv;
    const superseded = chained ? entry.superseded : new Set<string>();
    const produced = chained ? entry.produced : new Set<string>();
    superseded.add(beforeRv);
    produced.add(afterRv);
    this.entries.set(key, { superseded, produced, latest: after });
  }

  /** The newest copy we know of: our last write while the cache lags behind it, else `cached`. */
  resolve(key: string, cached: CdmSinkProvision): CdmSinkProvision {
    const entry = this.entries.get(key);
    if (!entry) return cached;
    if (entry.superseded.has(cached.metadata.resourceVersion ?? '')) return entry.latest;
    // The cache holds our latest write (caught up) or a newer foreign version: it wins from now on.
    this.entries.delete(key);
    return cached;
  }

  /**
   * Calls `foreign` unless the version the watch delivered is exactly one our own writes produced
   * (later, once a write to the key in flight has answered), and lets go of the entry once the watch
   * has caught up with our latest write, so entries live only while in flight.
   */
  observe(key: string, obj: CdmSinkProvision, foreign: () => void): void {
    const pending = this.inFlight.get(key);
    if (pending) {
      pending.held.push({ obj, foreign });
      return;
    }
    const entry = this.entries.get(key);
    const rv = obj.metadata.resourceVersion ?? '';
    if (!entry?.produced.has(rv)) {
      foreign();
      return;
    }
    if (entry.latest.metadata.resourceVersion === rv) this.entries.delete(key);
  }

  /** Entries still waiting for the watch to catch up; for tests. */
  size(): number {
    return this.entries.size;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}
