import type { BatchOutcome, InsertVia } from './batch-types.js';
import { type Batch, type BatchLimits, prepareBatches } from './batches.js';
import { InvalidRowsError, type RejectedRow } from './errors.js';
import type { ModelTarget } from './model-target.js';
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
}

export interface WriteTotals {
  received: number;
  inserted: number;
  updated: number;
  unchanged: number;
  stale: number;
  rejected: RejectedRow[];
}

type Settled = { ok: true; outcome: BatchOutcome } | { ok: false; error: unknown };

export async function writeRows(
  context: WriteRowsContext,
  rows: Iterable<unknown> | AsyncIterable<unknown>,
): Promise<WriteTotals> {
  const totals: WriteTotals = { received: 0, inserted: 0, updated: 0, unchanged: 0, stale: 0, rejected: [] };
  const processed = () => totals.inserted + totals.updated + totals.unchanged + totals.stale;
  let inflight: Promise<Settled> | undefined;

  const settle = async () => {
    const settled = await inflight;
    inflight = undefined;
    if (!settled) return;
    if (!settled.ok) throw settled.error;
    totals.inserted += settled.outcome.inserted;
    totals.updated += settled.outcome.updated;
    totals.unchanged += settled.outcome.unchanged;
    totals.stale += settled.outcome.stale;
  };
  const start = (batch: Batch) => {
    // Settled into a value at once: a rejection that arrives while the next batch is being prepared
    // must not count as unhandled.
    inflight = writeBatch(context.pool, context.target, batch, {
      retry: context.retry,
      insertVia: context.insertVia,
      committedRows: processed(),
      ...(context.onRetry ? { onRetry: context.onRetry } : {}),
    }).then(
      (outcome): Settled => ({ ok: true, outcome }),
      (error): Settled => ({ ok: false, error }),
    );
  };

  try {
    for await (const batch of prepareBatches(rows, context.target.prepare, context.limits)) {
      totals.received += batch.received;
      // The previous batch ran while this one was prepared; it must finish before this one starts, so
      // a key in both is applied in input order and a failure stops the call at the right batch.
      await settle();
      if (batch.rejected.length > 0) {
        if (!context.skipInvalid)
          throw new InvalidRowsError(context.target.model.id, batch.rejected, processed());
        for (const row of batch.rejected) totals.rejected.push(row);
      }
      // Earlier duplicates of a key that a later row of the same batch replaced.
      totals.unchanged += batch.superseded;
      start(batch);
    }
    await settle();
  } finally {
    // On an early exit, never leave a batch running unobserved.
    if (inflight) await inflight;
  }
  return totals;
}
