import { checkOut } from '../postgres/check-out.js';
import type { BatchOutcome, InsertVia } from './batch-types.js';
import type { Batch } from './batches.js';
import { BatchWriteError } from './errors.js';
import { executeBatch, type Written } from './execute-batch.js';
import type { ModelTarget } from './model-target.js';
import { classifyFailure, errorCode, type RetryEvent, type RetryPolicy, waitBeforeRetry } from './retry.js';
import type { WriterPool, WriterPoolClient } from './writer-pool.js';

export interface WriteBatchOptions {
  readonly retry: RetryPolicy;
  readonly insertVia: InsertVia;
  /** `onInvalidRow: 'skip'`: rows Postgres refuses are returned and the rest commits. */
  readonly skipInvalid: boolean;
  /** Rows committed by earlier batches of the same call (reported in errors). */
  readonly committedRows: number;
  readonly onRetry?: (event: RetryEvent) => void;
}

/**
 * Writes one batch on a pooled connection, retrying transient failures on a fresh connection.
 *
 * Guarantees: a replay never duplicates or regresses rows (the write is an idempotent upsert whose
 * lookup runs again). When the connection died after the statement that commits was sent, the outcome
 * is unknown: what that attempt's rows would have done is kept, and the retry counts a row it finds
 * stored with its own hash as that (inserted or updated), so the counts stay exact; out of retries,
 * `BatchWriteError.commitUnknown` says the rows may be in the table. A batch Postgres refuses rows of
 * (SQLSTATE class 22/23) is replayed once with isolation (see `executeBatch`). A client that failed is
 * destroyed, never returned to the pool mid-transaction. Every checked-out client has an `error`
 * listener: pg emits `error` on a checked-out client whose socket dies, and without a listener that
 * crashes the process.
 */
export async function writeBatch(
  pool: WriterPool,
  target: ModelTarget,
  batch: Batch,
  options: WriteBatchOptions,
): Promise<BatchOutcome> {
  let insertVia = options.insertVia;
  let isolate = false;
  // Set once an attempt lost its connection after sending its commit; replaced by a later one's.
  let unconfirmed: ReadonlyMap<string, Written> | undefined;
  for (let attempt = 1; ; attempt++) {
    let client: WriterPoolClient | undefined;
    let connectionLost = false;
    let committing: ReadonlyMap<string, Written> | undefined;
    const onLost = () => {
      connectionLost = true;
    };
    try {
      client = await checkOut(pool, onLost);
      const outcome = await executeBatch(client, target.statements, batch.rows, {
        insertVia,
        isolate,
        keepAccepted: options.skipInvalid,
        unconfirmed,
        onCommit: (written) => {
          committing = written;
        },
      });
      client.off('error', onLost);
      client.off('end', onLost);
      client.release();
      return outcome;
    } catch (error) {
      if (client) {
        // Destroy rather than ROLLBACK: the socket may be dead, and a fresh connection is cheap next to a
        // client left in an aborted transaction for the next user of the pool.
        client.release(true);
        // pg may still emit a late error on the destroyed client; keep swallowing it.
        client.off('end', onLost);
      }
      // A server reply to the commit would have said whether it failed; a lost connection says nothing.
      if (committing && connectionLost) unconfirmed = committing;
      let kind = classifyFailure(error, connectionLost);
      // Nothing is COPYed in upsert mode or under isolation: a 23505 there comes from another unique
      // index on the table, a row's fault like any constraint.
      if (kind === 'conflict' && (insertVia === 'upsert' || isolate)) kind = 'data';
      const code = errorCode(error);
      const canRetry =
        kind === 'conflict' ||
        // Once: a data error under isolation is not a row's (e.g. a deferred constraint at COMMIT).
        (kind === 'data' && !isolate) ||
        (kind === 'transient' && attempt < options.retry.maxAttempts);
      if (!canRetry) {
        throw new BatchWriteError(
          target.model.id,
          batch.firstIndex,
          batch.lastIndex,
          attempt,
          code,
          kind === 'transient',
          options.committedRows,
          error,
          unconfirmed !== undefined,
        );
      }
      options.onRetry?.({
        modelId: target.model.id,
        firstIndex: batch.firstIndex,
        lastIndex: batch.lastIndex,
        attempt,
        kind,
        code,
        error,
      });
      if (kind === 'conflict') insertVia = 'upsert';
      else if (kind === 'data') isolate = true;
      else await waitBeforeRetry(options.retry, attempt);
    }
  }
}
