/**
 * The thread side of `PreparePool`: prepares the rows it is sent with `rowPreparer`, the very function
 * the main thread uses, and returns each slice's lines as one transferred buffer plus per-row metadata.
 *
 * Protocol (one worker may hold slices of several sessions at once, so every message names its slice):
 * - `{ slice, index, row }`: prepare `row`, input position `index`, as part of `slice`. Rows are sent one
 *   by one as they are read, so the worker starts on a slice before it is complete;
 * - `{ flush: slice }`: the slice is complete; the worker answers with its `SliceResult`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { defaultRegistry } from '../models/index.js';
import type { PrepareRow } from './batches.js';
import type { EncodedRow } from './encode-row.js';
import type { RejectedRow } from './errors.js';
import { LineBuffer } from './line-buffer.js';
import { type RowLimits, rowPreparer } from './prepare-row.js';

/** A failure to inject, for the pool's tests: at the row of input position `index`. */
export interface PrepareWorkerFault {
  /**
   * `start`: the worker fails before serving; `throw`: an uncaught exception; `exit`: the thread exits;
   * `prepare`: the row's preparation throws.
   */
  readonly kind: 'start' | 'throw' | 'exit' | 'prepare';
  readonly index: number;
}

export interface PrepareWorkerData {
  readonly modelId: string;
  readonly limits: RowLimits;
  readonly fault: PrepareWorkerFault | undefined;
}

export interface RowMessage {
  readonly slice: number;
  readonly index: number;
  readonly row: unknown;
}

export interface FlushMessage {
  readonly flush: number;
}

/** One slice's prepared rows, each list in input order. */
export interface SliceResult {
  readonly slice: number;
  /** The lines of the encoded rows, back to back (transferred, not copied). */
  readonly bytes: ArrayBuffer;
  /** Encoded rows, as columns: cloning a few arrays is cheaper than cloning an object per row. */
  readonly index: number[];
  readonly cdmId: string[];
  readonly version: (string | null)[];
  readonly hash: string[];
  /** Where each line ends in `bytes`; it starts where the previous one ended. */
  readonly end: number[];
  readonly rejected: RejectedRow[];
  /** The preparation of row `index` threw; later rows of the slice were not prepared. */
  readonly failure: { readonly index: number; readonly error: unknown } | undefined;
}

interface OpenSlice {
  readonly encoded: EncodedRow[];
  readonly rejected: RejectedRow[];
  failure: SliceResult['failure'];
}

function failingAt(prepare: PrepareRow, index: number): PrepareRow {
  return (row, at, lines) => {
    if (at === index) throw new Error(`injected prepare fault at row ${at}`);
    return prepare(row, at, lines);
  };
}

function result(id: number, slice: OpenSlice): SliceResult {
  let total = 0;
  for (const row of slice.encoded) total += row.end - row.start;
  // Its own ArrayBuffer (never the shared allocation pool), so it can be transferred.
  const bytes = Buffer.allocUnsafeSlow(total);
  const count = slice.encoded.length;
  const columns = {
    index: new Array<number>(count),
    cdmId: new Array<string>(count),
    version: new Array<string | null>(count),
    hash: new Array<string>(count),
    end: new Array<number>(count),
  };
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const row = slice.encoded[i]!;
    offset += row.chunk.copy(bytes, offset, row.start, row.end);
    columns.index[i] = row.index;
    columns.cdmId[i] = row.cdmId;
    columns.version[i] = row.version;
    columns.hash[i] = row.hash;
    columns.end[i] = offset;
  }
  return { slice: id, bytes: bytes.buffer, ...columns, rejected: slice.rejected, failure: slice.failure };
}

function serve(port: NonNullable<typeof parentPort>, data: PrepareWorkerData): void {
  const { fault } = data;
  if (fault?.kind === 'start') throw new Error('injected start fault');
  const prepared = rowPreparer(defaultRegistry.get(data.modelId), data.limits);
  const prepare = fault?.kind === 'prepare' ? failingAt(prepared, fault.index) : prepared;
  const crash = fault?.kind === 'prepare' ? undefined : fault;
  const open = new Map<number, OpenSlice>();
  // One buffer for every slice: lines are copied out when their slice is flushed, so once no slice is
  // open its chunk is reused rather than left for the GC (dead 1 MiB chunks piled up to ~35 MB of RSS).
  const lines = new LineBuffer();

  port.on('message', (message: RowMessage | FlushMessage) => {
    if ('flush' in message) {
      const slice = open.get(message.flush) ?? { encoded: [], rejected: [], failure: undefined };
      open.delete(message.flush);
      const answer = result(message.flush, slice);
      port.postMessage(answer, [answer.bytes]);
      if (open.size === 0) lines.rewind();
      return;
    }
    let slice = open.get(message.slice);
    if (!slice) {
      slice = { encoded: [], rejected: [], failure: undefined };
      open.set(message.slice, slice);
    }
    // After a failure the slice's result ends there; its later rows are not prepared.
    if (slice.failure) return;
    if (crash?.index === message.index) {
      if (crash.kind === 'exit') process.exit(3);
      throw new Error(`injected ${crash.kind} fault at row ${message.index}`);
    }
    try {
      const prepared = prepare(message.row, message.index, lines);
      if ('errors' in prepared) slice.rejected.push(prepared);
      else slice.encoded.push(prepared);
    } catch (error) {
      // An Error clones (name, message, stack); anything else thrown might not.
      slice.failure = {
        index: message.index,
        error: error instanceof Error ? error : new Error(String(error)),
      };
    }
  });
}

if (parentPort) serve(parentPort, workerData as PrepareWorkerData);
