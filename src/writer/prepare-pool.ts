import os from 'node:os';
import { types } from 'node:util';
import { Worker } from 'node:worker_threads';
import { defaultRegistry } from '../models/index.js';
import type { CdmModelId } from '../models/row-types.generated.js';
import { isRejected, type PrepareRow } from './batches.js';
import { PrepareWorkerError } from './errors.js';
import { LineBuffer } from './line-buffer.js';
import { DEFAULT_ROW_LIMITS, type RowLimits, rowPreparer } from './prepare-row.js';
import type {
  FlushMessage,
  PrepareWorkerData,
  PrepareWorkerFault,
  RowMessage,
  SliceResult,
} from './prepare-worker.js';
import type { PreparedRow } from './prepared-rows.js';

/**
 * Row preparation (validate, encode, hash) on worker threads, so a large write uses every core.
 *
 * Guarantees:
 * - the same results as preparing on this thread, row for row: workers run `rowPreparer`, and a row whose
 *   structured clone could differ from it (see `cloneSize`) is prepared on this thread instead;
 * - results come back in input order with their exact input `index` (`PrepareSession`);
 * - memory is bounded: each worker holds at most `slicesPerThread` slices of at most `sliceRows` rows and
 *   about `sliceBytes` bytes, and a session reads no further ahead than its share of those;
 * - a worker that crashes, exits or fails on a row fails the sessions using it with a
 *   `PrepareWorkerError`, never a hang; the pool then starts fresh workers on its next use;
 * - idle workers do not keep the process alive (`unref`); `close()` terminates them.
 *
 * Caveats:
 * - each worker is a V8 isolate with the model's compiled schema: ~20 MB of RSS idle, ~35 MB busy;
 * - this thread still pays for every row: checking it (`cloneSize`, 1–3 µs) and cloning it to a worker
 *   (10–15 µs for a 1.5 KB `cdm.work.item` row, against ~25–35 µs to prepare it), so the pool takes about
 *   half of the preparation off this thread, whatever the number of workers;
 * - a row is cloned on its own, when it is read (cloning a slice at once would cost ~5 µs less, but read
 *   wrongly an input that reuses one mutable object per row);
 * - a getter on a plain object is called by the check and by the clone rather than by the preparation:
 *   one whose value changes from call to call may be prepared differently than inline.
 */

/**
 * Threads for preparing: one core is left to this thread, one to the database's work, at most 4.
 * Measured on 2 cores with Postgres local (`npm run bench:writer`): one worker made the first write
 * 19 % slower (10.6k against 13.0k rows/s, it competes with Postgres for the cores), the unchanged
 * re-write no faster (19.8k against 19.4k), four concurrent writers 35 % slower, and cost 40 MB of RSS;
 * so none there. Past 4, this thread (which clones every row) is the limit, and more workers only
 * cost memory (~30 MB each).
 */
export function defaultPrepareThreads(): number {
  return Math.min(4, Math.max(0, os.availableParallelism() - 2));
}

export interface PreparePoolOptions {
  readonly modelId: CdmModelId;
  /** Default `defaultPrepareThreads()`, at least 1. */
  readonly threads?: number;
  readonly limits?: RowLimits;
  /** Rows per slice, the unit of results returned (default 512). */
  readonly sliceRows?: number;
  /** A slice also ends at about this many bytes of rows (default 1 MiB), so huge rows stay bounded. */
  readonly sliceBytes?: number;
  /** Slices a worker holds at once: one it works on, one it is sent meanwhile (default 2). */
  readonly slicesPerThread?: number;
  /** For tests: make the workers fail at a given row. */
  readonly fault?: PrepareWorkerFault;
}

const MAX_DEPTH = 64;
const MAX_NODES = 1 << 16;
let nodesLeft = 0;

/**
 * About how many bytes the structured clone of `value` takes, or undefined when the clone could be
 * prepared differently from `value` itself: anything but primitives, arrays and plain objects
 * (`Object.prototype`) with only enumerable own properties; functions and symbols (not cloneable);
 * proxies (their traps are not called); values nested deeper than 64 levels or with more than 65,536
 * parts (cheaper prepared here than checked). Symbol-keyed properties, which the clone drops, are
 * ignored: nothing reads a row by symbol. Why it is enough: the clone of such a value has the same own
 * properties, values, key order, holes, `-0`, `undefined` and bigints. It costs about 1–2 µs for a
 * typical 1.5 KB row.
 */
export function cloneSize(value: unknown): number | undefined {
  nodesLeft = MAX_NODES;
  try {
    return sizeOf(value, 0);
  } catch {
    // A getter or a proxy trap threw: this thread's preparation meets the same.
    return undefined;
  }
}

function sizeOf(value: unknown, depth: number): number | undefined {
  if (typeof value === 'string') return 8 + value.length;
  if (typeof value !== 'object' || value === null) {
    return typeof value === 'function' || typeof value === 'symbol' ? undefined : 8;
  }
  if (--nodesLeft < 0 || depth > MAX_DEPTH || types.isProxy(value)) return undefined;
  const proto = Object.getPrototypeOf(value);
  let size = 16;
  if (proto === Array.prototype && Array.isArray(value)) {
    // Read by index, like every reader of a row's arrays; extra properties on an array are ignored.
    for (let i = 0; i < value.length; i++) {
      const element = sizeOf(value[i], depth + 1);
      if (element === undefined) return undefined;
      size += element;
    }
    return size;
  }
  if (proto !== Object.prototype) return undefined;
  const record = value as Record<string, unknown>;
  let keys = 0;
  // for…in also lists inherited enumerable properties (a polluted prototype): the counts then differ.
  for (const key in record) {
    keys++;
    const field = sizeOf(record[key], depth + 1);
    if (field === undefined) return undefined;
    size += key.length + field;
  }
  // A non-enumerable own property is read by the preparation but dropped by the clone.
  return Object.getOwnPropertyNames(record).length === keys ? size : undefined;
}

/** One slice sent to a worker; `result` settles when the worker answers (or fails). */
export interface SliceTicket {
  readonly id: number;
  readonly result: Promise<SliceResult>;
  settled: boolean;
}

interface Ticket extends SliceTicket {
  readonly thread: Thread;
}

interface Pending {
  readonly ticket: Ticket;
  readonly resolve: (result: SliceResult) => void;
  readonly reject: (error: unknown) => void;
}

interface Thread {
  readonly worker: Worker;
  /** Slices sent to this worker and not answered yet. */
  readonly pending: Map<number, Pending>;
}

/** A worker on this module's sibling file; from sources (vitest, tsx) with tsx's loader registered. */
function startWorker(data: PrepareWorkerData): Worker {
  // A worker's garbage is rows that die young; V8's default young generation (32 MB here) only costs
  // RSS: 16 MB took ~20 MB off a worker's peak, 8 MB promoted so much that the old space grew instead.
  const options = { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 16 } };
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./prepare-worker.js', import.meta.url), options);
  // A worker thread inherits neither `--import tsx` nor the hooks it registered, so register them in
  // the thread before importing the TypeScript source. Only the sources need tsx; dist/ never does.
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const source = JSON.stringify(new URL('./prepare-worker.ts', import.meta.url).href);
  return new Worker(`import(${tsx}).then((api) => { api.register(); return import(${source}); });`, {
    ...options,
    eval: true,
  });
}

export class PreparePool {
  readonly modelId: CdmModelId;
  readonly threads: number;
  readonly limits: RowLimits;
  readonly sliceRows: number;
  readonly sliceBytes: number;
  readonly slicesPerThread: number;
  /**
   * Rows of this pool's sessions sent to a worker, and prepared on this thread instead (not plain data,
   * or every worker busy); for tests and metrics.
   */
  readonly counts = { sent: 0, here: 0 };
  private readonly fault: PrepareWorkerFault | undefined;
  private running: Thread[] | undefined;
  private readonly stopping = new Set<Promise<unknown>>();
  private localPrepare: PrepareRow | undefined;
  private nextSlice = 0;
  private closed = false;

  /** Starts nothing: the workers start on first use. */
  constructor(options: PreparePoolOptions) {
    this.modelId = options.modelId;
    this.threads = Math.max(1, Math.floor(options.threads ?? Math.max(1, defaultPrepareThreads())));
    this.limits = options.limits ?? DEFAULT_ROW_LIMITS;
    this.sliceRows = options.sliceRows ?? 512;
    this.sliceBytes = options.sliceBytes ?? 1 << 20;
    this.slicesPerThread = options.slicesPerThread ?? 2;
    this.fault = options.fault;
  }

  /** Whether workers are running (started and neither failed nor closed since). */
  get started(): boolean {
    return this.running !== undefined;
  }

  /** A new stream of rows to prepare, in input order; see `PrepareSession`. */
  session(): PrepareSession {
    if (this.closed) throw new Error('PreparePool is closed');
    // The same function as the workers', for the rows prepared on this thread.
    this.localPrepare ??= rowPreparer(defaultRegistry.get(this.modelId), this.limits);
    return new PrepareSession(this, this.localPrepare);
  }

  /** Terminates the workers; a session still using them fails. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.stop(new Error('PreparePool was closed'));
    await Promise.all([...this.stopping]);
  }

  /** A slot on the least busy worker, or undefined when every worker holds `slicesPerThread` slices. */
  reserve(): SliceTicket | undefined {
    if (this.closed) throw new Error('PreparePool is closed');
    this.running ??= this.start();
    let thread: Thread | undefined;
    for (const candidate of this.running) {
      if (
        candidate.pending.size < this.slicesPerThread &&
        candidate.pending.size < (thread?.pending.size ?? Infinity)
      )
        thread = candidate;
    }
    if (!thread) return undefined;
    let settle!: Omit<Pending, 'ticket'>;
    const result = new Promise<SliceResult>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // A session that stopped early never awaits its remaining tickets; their failure is not unhandled.
    result.catch(() => {});
    const ticket: Ticket = { id: this.nextSlice++, result, settled: false, thread };
    // Busy workers keep the process alive: a session awaiting a result must not see the process exit.
    if (thread.pending.size === 0) thread.worker.ref();
    thread.pending.set(ticket.id, { ticket, ...settle });
    return ticket;
  }

  /**
   * Sends one row of `ticket`'s slice; throws (sending nothing) when `row` cannot be cloned. After a
   * failure the worker is gone and the row is dropped; the ticket's result has failed already.
   */
  send(ticket: SliceTicket, index: number, row: unknown): void {
    (ticket as Ticket).thread.worker.postMessage({ slice: ticket.id, index, row } satisfies RowMessage);
    this.counts.sent++;
  }

  /** Ends `ticket`'s slice: the worker answers with its result. */
  flush(ticket: SliceTicket): void {
    (ticket as Ticket).thread.worker.postMessage({ flush: ticket.id } satisfies FlushMessage);
  }

  /** Gives back the slot of a slice that sent no row. */
  cancel(ticket: SliceTicket): void {
    const { thread } = ticket as Ticket;
    if (thread.pending.delete(ticket.id)) this.freed(thread);
  }

  private start(): Thread[] {
    const data: PrepareWorkerData = { modelId: this.modelId, limits: this.limits, fault: this.fault };
    const threads: Thread[] = [];
    try {
      for (let i = 0; i < this.threads; i++) {
        const worker = startWorker(data);
        worker.unref();
        threads.push({ worker, pending: new Map() });
      }
    } catch (error) {
      // E.g. no tsx to run the sources with: say so the way every other worker failure says it.
      for (const { worker } of threads) this.terminate(worker);
      const why = error instanceof Error ? error.message : String(error);
      throw new PrepareWorkerError(`the thread could not start: ${why}`, { cause: error });
    }
    for (const thread of threads) {
      const { worker } = thread;
      worker.on('message', (result: SliceResult) => this.answered(thread, result));
      worker.on('error', (error) =>
        this.failed(threads, new PrepareWorkerError(error.message, { cause: error })),
      );
      worker.on('messageerror', (error) =>
        this.failed(
          threads,
          new PrepareWorkerError(`a result could not be read: ${error.message}`, { cause: error }),
        ),
      );
      worker.on('exit', (code) =>
        this.failed(threads, new PrepareWorkerError(`the thread exited with code ${code}`)),
      );
    }
    return threads;
  }

  private answered(thread: Thread, result: SliceResult): void {
    const pending = thread.pending.get(result.slice);
    if (!pending) return;
    thread.pending.delete(result.slice);
    pending.ticket.settled = true;
    pending.resolve(result);
    this.freed(thread);
  }

  private freed(thread: Thread): void {
    if (thread.pending.size === 0) thread.worker.unref();
  }

  /** A worker of `threads` failed: every slice of that generation fails; the next use starts afresh. */
  private failed(threads: Thread[], error: PrepareWorkerError): void {
    // Later events of a generation already stopped (its workers' exits) change nothing.
    if (this.running === threads) this.stop(error);
  }

  private stop(error: Error): void {
    const threads = this.running;
    this.running = undefined;
    for (const thread of threads ?? []) {
      for (const pending of thread.pending.values()) {
        pending.ticket.settled = true;
        pending.reject(error);
      }
      thread.pending.clear();
      this.terminate(thread.worker);
    }
  }

  /** Terminates `worker`; `close()` waits for it. */
  private terminate(worker: Worker): void {
    const stopped = worker.terminate();
    this.stopping.add(stopped);
    void stopped.finally(() => this.stopping.delete(stopped));
  }
}

/** A slice this thread has finished reading: sent to a worker, prepared here, or both. */
interface QueuedSlice {
  /** Undefined when no row of the slice went to a worker. */
  readonly ticket: SliceTicket | undefined;
  /** Rows prepared on this thread, in input order. */
  readonly local: PreparedRow[];
  /** This thread's preparation of row `index` threw `error`: the stream ends there. */
  readonly failure: { readonly index: number; readonly error: unknown } | undefined;
}

interface OpenSlice {
  /** Undefined for a slice prepared here, because every worker was busy. */
  readonly ticket: SliceTicket | undefined;
  readonly local: PreparedRow[];
  failure: QueuedSlice['failure'];
  rows: number;
  sent: number;
  bytes: number;
}

/** Slices a session may hold beyond the pool's slots: the ones this thread prepares while they work. */
const LOCAL_SLICES = 2;

/**
 * One stream of rows through a pool, in input order. The caller pushes rows as it reads them, and before
 * reading the next one drains while `needsDrain()` says so:
 *
 * ```ts
 * while (session.needsDrain()) for (const row of await session.takeHead()) yield row;
 * session.push(row, index);
 * ```
 *
 * Rows go to the least busy worker, a slice at a time. When every worker is busy, this thread prepares
 * the next slice itself instead of waiting, so it is one more core and a small pool never makes a write
 * slower than preparing inline (apart from the cloning).
 *
 * A row is cloned (or prepared here) when pushed, before the next one is read, so an input that reuses
 * one object for every row is read correctly. A row whose preparation throws ends the stream after the
 * rows before it, with that error; a worker failure ends it with a `PrepareWorkerError`.
 */
export class PrepareSession {
  private open: OpenSlice | undefined;
  private readonly queue: QueuedSlice[] = [];
  /** For the rows prepared on this thread; chunks live as long as rows in them. */
  private readonly lines = new LineBuffer();
  private readonly maxQueued: number;
  /** A row failed: read no more input, hand on the rows before it, then throw `error`. */
  private stopping = false;
  private error: { readonly error: unknown } | undefined;

  constructor(
    private readonly pool: PreparePool,
    private readonly prepare: PrepareRow,
  ) {
    this.maxQueued = pool.threads * pool.slicesPerThread + LOCAL_SLICES;
  }

  /** Whether the caller must `takeHead()` before pushing the next row (or ending). */
  needsDrain(): boolean {
    if (this.stopping || this.error) return true;
    const head = this.queue[0];
    // Results ready are handed on first: the consumer gets them sooner and they are held less long.
    if (head && (head.ticket?.settled ?? true)) return true;
    if (this.open?.ticket) return false;
    // No slice open, or one prepared here: a worker that became free takes over.
    if (this.open === undefined && this.queue.length >= this.maxQueued) return true;
    const ticket = this.pool.reserve();
    if (ticket) {
      if (this.open) this.closeOpen();
      this.open = { ticket, local: [], failure: undefined, rows: 0, sent: 0, bytes: 0 };
    } else {
      this.open ??= { ticket: undefined, local: [], failure: undefined, rows: 0, sent: 0, bytes: 0 };
    }
    return false;
  }

  /**
   * Takes `row` (input position `index`), only when `needsDrain()` is false. Returns true when it was
   * prepared on this thread (which costs several times more than cloning it to a worker).
   */
  push(row: unknown, index: number): boolean {
    const slice = this.open;
    if (!slice) throw new Error('PrepareSession.push: no open slice; drain first');
    if (slice.ticket?.settled) {
      // Only a failure settles an open slice: read no more, the failure comes with this slice's turn.
      this.stopping = true;
      this.closeOpen();
      return false;
    }
    slice.rows++;
    const size = slice.ticket ? cloneSize(row) : undefined;
    if (size !== undefined) {
      try {
        this.pool.send(slice.ticket!, index, row);
        slice.sent++;
        slice.bytes += size;
        this.closeIfFull(slice);
        return false;
      } catch {
        // Not cloneable after all (a getter that threw the second time, …): prepared here instead.
      }
    }
    this.pool.counts.here++;
    try {
      const prepared = this.prepare(row, index, this.lines);
      slice.local.push(prepared);
      if (!isRejected(prepared)) slice.bytes += prepared.end - prepared.start;
    } catch (error) {
      slice.failure = { index, error };
      this.stopping = true;
      this.closeOpen();
      return true;
    }
    this.closeIfFull(slice);
    return true;
  }

  /** Ends the input: the rows pushed so far are still to be taken while `pending`. */
  end(): void {
    if (this.open) this.closeOpen();
  }

  /** Whether `takeHead()` has rows (or an error) to give. */
  get pending(): boolean {
    return this.queue.length > 0 || this.error !== undefined;
  }

  /** The oldest slice's rows, in input order, once ready. Throws a failure once the rows before it were taken. */
  async takeHead(): Promise<PreparedRow[]> {
    if (this.error) throw this.error.error;
    const head = this.queue.shift();
    if (!head) throw new Error('PrepareSession.takeHead: nothing pending');
    const result = head.ticket ? await head.ticket.result : undefined;
    return this.assemble(head, result);
  }

  /** Stops early: gives back the open slot; results still to come are dropped. */
  abandon(): void {
    if (this.open) this.closeOpen();
    this.queue.length = 0;
  }

  private closeIfFull(slice: OpenSlice): void {
    if (slice.rows >= this.pool.sliceRows || slice.bytes >= this.pool.sliceBytes) this.closeOpen();
  }

  private closeOpen(): void {
    const slice = this.open!;
    this.open = undefined;
    const { ticket } = slice;
    // A slice that sent nothing gives its slot back, unless the slot failed: its failure must be seen.
    const sent = ticket !== undefined && (slice.sent > 0 || ticket.settled);
    if (sent) this.pool.flush(ticket);
    else if (ticket) this.pool.cancel(ticket);
    if (slice.rows === 0 && !sent) return;
    this.queue.push({ ticket: sent ? ticket : undefined, local: slice.local, failure: slice.failure });
  }

  /** Merges the worker's rows and this thread's by index, up to the first failure. */
  private assemble(head: QueuedSlice, result: SliceResult | undefined): PreparedRow[] {
    let failure = head.failure;
    if (result?.failure && (!failure || result.failure.index < failure.index)) {
      const { index, error } = result.failure;
      const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      failure = { index, error: new PrepareWorkerError(`row ${index}: ${why}`, { cause: error }) };
    }
    const until = failure?.index ?? Number.POSITIVE_INFINITY;
    const rows: PreparedRow[] = [];
    const chunk = result ? Buffer.from(result.bytes) : undefined;
    const encoded = result?.index.length ?? 0;
    const rejected = result?.rejected ?? [];
    const local = head.local;
    let e = 0;
    let r = 0;
    let l = 0;
    let start = 0;
    for (;;) {
      const ei = e < encoded ? result!.index[e]! : Number.POSITIVE_INFINITY;
      const ri = r < rejected.length ? rejected[r]!.index : Number.POSITIVE_INFINITY;
      const li = l < local.length ? local[l]!.index : Number.POSITIVE_INFINITY;
      const next = Math.min(ei, ri, li);
      if (next >= until) break;
      if (next === ei) {
        const end = result!.end[e]!;
        // Same shape (and key order) as the encoder's rows, so the batcher sees one hidden class.
        rows.push({
          index: ei,
          cdmId: result!.cdmId[e]!,
          version: result!.version[e]!,
          hash: result!.hash[e]!,
          chunk: chunk!,
          start,
          end,
        });
        start = end;
        e++;
      } else if (next === ri) {
        rows.push(rejected[r++]!);
      } else {
        rows.push(local[l++]!);
      }
    }
    if (failure) {
      this.error = { error: failure.error };
      this.queue.length = 0;
    }
    return rows;
  }
}
