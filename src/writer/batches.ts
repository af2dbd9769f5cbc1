import type { EncodedRow } from './encode-row.js';
import type { RejectedRow } from './errors.js';
import type { LineBuffer } from './line-buffer.js';
import type { PreparedRow } from './prepared-rows.js';
import { replacesVersion } from './timestamps.js';

/**
 * Cutting the stream of prepared rows into bounded batches, each de-duplicated and sorted. Preparing the
 * rows (validate, encode, hash) happens before, in `prepared-rows.ts`: on this thread or in a pool.
 *
 * Guarantees:
 * - memory is bounded by the batch limits, whatever the input size: the generator pulls the next prepared
 *   row only when the consumer asks for the next batch (backpressure), and holds one batch at a time;
 * - duplicates of one `cdm_id` inside a batch collapse to one row (Postgres refuses to let one upsert
 *   touch a row twice, `21000`): the one with the newest `updated_at`, the later one on a tie, a null
 *   `updated_at` ranking below any timestamp (`replacesVersion`). Across batches, batches run in input
 *   order and the stored-row check applies the same ordering, so a later batch never replaces a newer
 *   row an earlier batch of the call wrote; which row survives does not depend on where batches are cut;
 * - rows are sorted by `cdm_id` (code-unit order), so concurrent writers lock overlapping keys in the
 *   same order and cannot deadlock on each other.
 */
export interface Batch {
  /** Valid rows, one per `cdm_id` (the newest of its duplicates), sorted by it. */
  readonly rows: readonly EncodedRow[];
  /** Invalid rows seen while filling this batch, in input order. */
  readonly rejected: readonly RejectedRow[];
  /** Duplicates of a `cdm_id` that lost to another row of the same batch (older, or earlier on a tie). */
  readonly superseded: number;
  /** Input rows consumed by this batch (valid, invalid and superseded). */
  readonly received: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
}

export interface BatchLimits {
  /** Distinct rows per batch (default 5,000: larger batches only cost memory, see the bulk-write notes). */
  readonly maxRows: number;
  /** Approximate bytes per batch; keeps a batch of huge rows from exhausting memory (default 16 MiB). */
  readonly maxBytes: number;
  /**
   * Rows prepared on this thread between yields to the event loop (default 16, about a millisecond); read
   * by `prepareInline`. Preparing is synchronous CPU work; each step of the batch executing meanwhile
   * (lookup reply, COPY start, socket drain, commit) needs an event-loop turn. With 256-row slices those
   * turns waited ~10 ms each and Postgres sat idle; yielding often is what overlaps Node's work with
   * Postgres'.
   */
  readonly yieldEvery: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = {
  maxRows: 5000,
  maxBytes: 16 << 20,
  yieldEvery: 16,
};

/** Validates one input row and encodes it into `lines` (see `prepared-rows.ts`). */
export type PrepareRow = (row: unknown, index: number, lines: LineBuffer) => EncodedRow | RejectedRow;

export function isRejected(prepared: EncodedRow | RejectedRow): prepared is RejectedRow {
  return 'errors' in prepared;
}

function byCdmId(a: EncodedRow, b: EncodedRow): number {
  return a.cdmId < b.cdmId ? -1 : a.cdmId > b.cdmId ? 1 : 0;
}

/** Reads prepared `rows` (in input order) lazily and yields batches. */
export async function* prepareBatches(
  rows: AsyncIterable<PreparedRow>,
  limits: BatchLimits = DEFAULT_BATCH_LIMITS,
): AsyncGenerator<Batch> {
  let byId = new Map<string, EncodedRow>();
  let rejected: RejectedRow[] = [];
  let bytes = 0;
  let superseded = 0;
  let received = 0;
  let firstIndex = 0;
  let lastIndex = -1;

  const take = (): Batch => {
    const batch = {
      rows: [...byId.values()].sort(byCdmId),
      rejected,
      superseded,
      received,
      firstIndex,
      lastIndex,
    };
    byId = new Map();
    rejected = [];
    bytes = 0;
    superseded = 0;
    received = 0;
    return batch;
  };

  for await (const prepared of rows) {
    if (received === 0) firstIndex = prepared.index;
    lastIndex = prepared.index;
    received++;
    if (isRejected(prepared)) {
      rejected.push(prepared);
    } else {
      const previous = byId.get(prepared.cdmId);
      if (!previous) {
        byId.set(prepared.cdmId, prepared);
      } else {
        superseded++;
        if (replacesVersion(prepared.version, previous.version)) byId.set(prepared.cdmId, prepared);
      }
      // A losing duplicate's line stays in its chunk until the batch is dropped, so every encoded byte
      // counts against the limit.
      bytes += prepared.end - prepared.start;
    }
    if (byId.size >= limits.maxRows || bytes >= limits.maxBytes || rejected.length >= limits.maxRows) {
      yield take();
    }
  }
  if (received > 0) yield take();
}
