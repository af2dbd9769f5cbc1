import { checkOut } from '../postgres/check-out.js';
import type { BatchOutcome, InsertVia } from './batch-types.js';
import type { Batch } from './batches.js';
import { BatchWriteError } from './errors.js';
import { executeBatch } from './execute-batch.js';
import type { ModelTarget } from './model-target.js';
import { classifyFailure, errorCode, type RetryEvent, type RetryPolicy, waitBeforeRetry } from './retry.js';
import type { WriterPool, WriterPoolClient } from './writer-pool.js';

export interface WriteBatchOptions {
  readonly retry: RetryPolicy;
  readonly insertVia: InsertVia;
  /** Rows committed by earlier batches of the same call (reported in errors). */
  readonly committedRows: number;
  readonly onRetry?: (event: RetryEvent) => void;
}

/**
 * Writes one batch on a pooled connection, retrying transient failures on a fresh connection.
 *
 * Guarantees: a replay never duplicates or regresses rows (the write is an idempotent upsert whose
 * lookup runs again, so rows committed before an unknown COMMIT outcome come back as unchanged). A
 * client that failed is destroyed, never returned to the pool mid-transaction. Every checked-out client
 * has an `error` listener: pg emits `error` on a checked-out client whose socket dies, and without a
 * listener that crashes the process.
 */
export async function writeBatch(
  pool: WriterPool,
  target: ModelTarget,
  batch: Batch,
  options: WriteBatchOptions,
): Promise<BatchOutcome> {
  let insertVia = options.insertVia;
  for (let attempt = 1; ; attempt++) {
    let client: WriterPoolClient | undefined;
    let connectionLost = false;
    const onLost = () => {
      connectionLost = true;
    };
    try {
      client = await checkOut(pool, onLost);
      const outcome = await executeBatch(client, target.statements, batch.rows, insertVia);
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
      const kind = classifyFailure(error, connectionLost);
      const code = errorCode(error);
      const canRetry =
        (kind === 'conflict' && insertVia === 'copy') ||
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
      else await waitBeforeRetry(options.retry, attempt);
    }
  }
}
