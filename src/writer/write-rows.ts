import type { BatchOutcome, InsertVia } from './batch-types.js';
import { type Batch, type BatchLimits, prepareBatches } from './batches.js';
import { InvalidRowsError, type RejectedRow } from './errors.js';
import type { ModelTarget } from './model-target.js';
import type { PreparePool } from './prepare-pool.js';
import { preparedRows } from './prepared-rows.js';
import type { RetryEvent, RetryPolicy } from './retry.js';
import { writeBatch } from './write-batch.js';
import type { WriterPool } from './writer-pool.js';

/**
 * The pipeline behind `CdmSinkWriter.write`: batch N executes on the database while batch N+1 is read
 * and prepared (validated, encoded, hashed) in Node, so the two processes work at the same time. At
 * most one batch executes at once, which keeps input order across batches and bounds memory to two
 * batches.
 */
export interface WriteRowsContext {
  readonly pool: WriterPool;
  readonly target: ModelTarget;
  readonly limits: BatchLimits;
  readonly retry: RetryPolicy;
  readonly insertVia: InsertVia;
  readonly skipInvalid: boolean;
  readonly onRetry: ((event: RetryEvent) => void) | undefined;
  /** Prepares the rows past the first batch on worker threads; undefined: all on this thread. */
  readonly preparePool: PreparePool | undefined;
  /** Called after each batch settled; an error it throws ends the call (see `WriteOptions.onProgress`). */
  readonly onProgress: ((progress: RowsProgress) => void) | undefined;
}

export interface WriteTotals {
  received: number;
  inserted: number;
  updated: number;
  unchanged: number;
  stale: number;
  rejected: RejectedRow[];
}

/** How far one `write` call got (`WriteProgress` without the model). */
export interface RowsProgress {
  readonly rowsDone: number;
  readonly rowsPerSecond: number;
}

/** What settling needs of a batch; not the batch itself, whose rows may be freed once it is written. */
type BatchSummary = Pick<Batch, 'firstIndex' | 'superseded' | 'received'>;

type Settled = { ok: true; batch: BatchSummary; outcome: BatchOutcome } | { ok: false; error: unknown };

/** Index of the first entry of `rows` (sorted by index) at or after `index`. */
function firstAtOrAfter(rows: readonly RejectedRow[], index: number): number {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (rows[mid]!.index < index) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Adds a batch's refused rows (sorted) to `rejected`, whose tail holds the same batch's invalid rows:
 * batches cover increasing input ranges, so merging that tail keeps the whole list in input order.
 */
function mergeRejected(rejected: RejectedRow[], batch: BatchSummary, refused: readonly RejectedRow[]): void {
  if (refused.length === 0) return;
  const tail = rejected.splice(firstAtOrAfter(rejected, batch.firstIndex));
  let i = 0;
  let j = 0;
  while (i < tail.length || j < refused.length) {
    if (j >= refused.length || (i < tail.length && tail[i]!.index < refused[j]!.index))
      rejected.push(tail[i++]!);
    else rejected.push(refused[j++]!);
  }
}

export async function writeRows(
  context: WriteRowsContext,
  rows: Iterable<unknown> | AsyncIterable<unknown>,
): Promise<WriteTotals> {
  const totals: WriteTotals = { received: 0, inserted: 0, updated: 0, unchanged: 0, stale: 0, rejected: [] };
  const processed = () => totals.inserted + totals.updated + totals.unchanged + totals.stale;
  const startedAt = performance.now();
  let rowsDone = 0;
  let inflight: Promise<Settled> | undefined;

  const settle = async () => {
    const settled = await inflight;
    inflight = undefined;
    if (!settled) return;
    if (!settled.ok) throw settled.error;
    const { batch, outcome } = settled;
    if (outcome.rejected.length > 0 && !context.skipInvalid) {
      // The batch was rolled back: nothing of it is written.
      throw new InvalidRowsError(context.target.model.id, outcome.rejected, processed());
    }
    totals.inserted += outcome.inserted;
    totals.updated += outcome.updated;
    // Earlier duplicates of a key that a later row of the same batch replaced.
    totals.unchanged += outcome.unchanged + batch.superseded;
    totals.stale += outcome.stale;
    mergeRejected(totals.rejected, batch, outcome.rejected);
    rowsDone += batch.received;
    if (context.onProgress) {
      const seconds = (performance.now() - startedAt) / 1000;
      // Called with nothing in flight: a throw ends the call right here, with this batch committed
      // and the next one not started.
      context.onProgress({
        rowsDone,
        rowsPerSecond: seconds > 0 ? Math.round(rowsDone / seconds) : 0,
      });
    }
  };
  const start = (batch: Batch) => {
    const summary: BatchSummary = {
      firstIndex: batch.firstIndex,
      superseded: batch.superseded,
      received: batch.received,
    };
    // Settled into a value at once: a rejection that arrives while the next batch is being prepared
    // must not count as unhandled.
    inflight = writeBatch(context.pool, context.target, batch, {
      retry: context.retry,
      insertVia: context.insertVia,
      skipInvalid: context.skipInvalid,
      committedRows: processed(),
      ...(context.onRetry ? { onRetry: context.onRetry } : {}),
    }).then(
      (outcome): Settled => ({ ok: true, batch: summary, outcome }),
      (error): Settled => ({ ok: false, error }),
    );
  };

  try {
    const prepared = preparedRows(rows, {
      prepare: context.target.prepare,
      pool: context.preparePool,
      inlineRows: context.limits.maxRows,
      yieldEvery: context.limits.yieldEvery,
      regionRows: context.limits.maxRows,
    });
    for await (const batch of prepareBatches(prepared, context.limits)) {
      totals.received += batch.received;
      // The previous batch ran while this one was prepared; it must finish before this one starts, so
      // a key in both is applied in input order and a failure stops the call at the right batch.
      await settle();
      if (batch.rejected.length > 0) {
        if (!context.skipInvalid)
          throw new InvalidRowsError(context.target.model.id, batch.rejected, processed());
        for (const row of batch.rejected) totals.rejected.push(row);
      }
      start(batch);
    }
    await settle();
  } finally {
    // On an early exit, never leave a batch running unobserved.
    if (inflight) await inflight;
  }
  return totals;
}
