import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workItemRows } from '../../bench/writer/rows.js';
import { defaultRegistry } from '../../src/models/index.js';
import {
  BatchWriteError,
  CdmSinkWriter,
  type CdmWorkItemRow,
  type RetryEvent,
} from '../../src/writer/index.js';
import { normalizeTimestamp } from '../../src/writer/timestamps.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { provisionTables } from '../support/provision.js';
import { hookPool, type StatementHooks } from '../support/writer-hook-pool.js';

/**
 * A connection lost after the server executed the statement that commits a batch, but before the
 * client heard back: the batch is in the table and the writer cannot know it. Injected at that exact
 * point (see `hookPool`), never by timing.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('writer_commit');
});
afterAll(async () => {
  await db.drop();
});

async function sink(schema: string): Promise<void> {
  await provisionTables(db.pool, { schema, tablePrefix: 'cdm_', sinkId: `ns/${schema}` }, [
    defaultRegistry.get('cdm.work.item'),
  ]);
}

/** Loses the connection once, right after the first statement `text` executed. */
function loseOnceAfter(text: string): StatementHooks {
  let armed = true;
  return {
    loseAfter: (sent) => {
      if (!armed || sent !== text) return false;
      armed = false;
      return true;
    },
  };
}

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const row of rows) all.push(row);
  return all;
}

/** What the table holds, and what the input says it should hold: `cdm_id|summary|updated_at` lines. */
async function stored(schema: string): Promise<string[]> {
  const { rows } = await db.pool.query(
    `SELECT cdm_id || '|' || summary || '|' ||
            to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS line
     FROM ${schema}.cdm_work_item ORDER BY cdm_id COLLATE "C"`,
  );
  return rows.map((r) => r.line as string);
}

function expected(rows: readonly CdmWorkItemRow[]): string[] {
  return rows
    .map((r) => `${r.cdm_id}|${r.summary}|${normalizeTimestamp(r.updated_at!)}`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('a COMMIT whose outcome the writer never heard', () => {
  it('is retried, and the retry counts the rows the lost COMMIT stored as inserted and updated, not unchanged', async () => {
    await sink('lost_commit');
    await new CdmSinkWriter({ pool: db.pool, schema: 'lost_commit' }).write(
      'cdm.work.item',
      workItemRows(30),
    );
    const retries: RetryEvent[] = [];
    const writer = new CdmSinkWriter({
      pool: hookPool(db.pool, loseOnceAfter('COMMIT')),
      schema: 'lost_commit',
      retry: { baseDelayMs: 1, maxDelayMs: 1 },
      onRetry: (e) => retries.push(e),
    });
    // Rows 0–29 stored: the even ones changed (upsert), the odd ones not; rows 30–39 new (COPY). New and
    // changed rows in one batch make a transaction, so its COMMIT is what gets lost.
    const input = await collect(workItemRows(40, { changedEvery: 2 }));
    const r = await writer.write('cdm.work.item', input);
    expect(retries.map((e) => e.kind)).toEqual(['transient']);
    expect(r).toMatchObject({ received: 40, inserted: 10, updated: 15, unchanged: 15, stale: 0 });
    expect(await stored('lost_commit')).toEqual(expected(input));
  });

  it('counts exactly after a lost autocommitted COPY too (a batch of new rows only needs one statement)', async () => {
    await sink('lost_copy');
    let armed = true;
    const writer = new CdmSinkWriter({
      pool: hookPool(db.pool, {
        loseAfterCopy: () => {
          const lose = armed;
          armed = false;
          return lose;
        },
      }),
      schema: 'lost_copy',
      retry: { baseDelayMs: 1, maxDelayMs: 1 },
    });
    const input = await collect(workItemRows(20));
    const r = await writer.write('cdm.work.item', input);
    expect(armed).toBe(false);
    expect(r).toMatchObject({ received: 20, inserted: 20, updated: 0, unchanged: 0, stale: 0 });
    expect(await stored('lost_copy')).toEqual(expected(input));
  });

  it('out of retries, BatchWriteError says the COMMIT was sent but not confirmed (commitUnknown), not that the rows failed', async () => {
    await sink('unknown');
    const writer = new CdmSinkWriter({
      pool: hookPool(db.pool, loseOnceAfter('COMMIT')),
      schema: 'unknown',
      retry: { maxAttempts: 1 },
    });
    await writer.write('cdm.work.item', workItemRows(5));
    const error = await writer
      .write('cdm.work.item', workItemRows(10, { changedEvery: 2 }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchWriteError);
    const failure = error as BatchWriteError;
    expect(failure).toMatchObject({ commitUnknown: true, retryable: true, attempts: 1, firstIndex: 0 });
    expect(failure.message).toContain("the batch's COMMIT was sent but not confirmed");
    expect(failure.message).toContain('re-running it is safe');
    // It did commit: the rows it may have written are there.
    expect(await stored('unknown')).toEqual(expected(await collect(workItemRows(10, { changedEvery: 2 }))));
  });

  it('a batch lost before its COMMIT was sent is not commitUnknown', async () => {
    await sink('before_commit');
    const writer = new CdmSinkWriter({
      pool: hookPool(db.pool, loseOnceAfter('BEGIN')),
      schema: 'before_commit',
      retry: { maxAttempts: 1 },
    });
    await writer.write('cdm.work.item', workItemRows(5));
    const error = (await writer
      .write('cdm.work.item', workItemRows(10, { changedEvery: 2 }))
      .catch((e: unknown) => e)) as BatchWriteError;
    expect(error).toBeInstanceOf(BatchWriteError);
    expect(error.commitUnknown).toBe(false);
    expect(error.message).not.toContain('COMMIT');
    expect(await stored('before_commit')).toEqual(expected(await collect(workItemRows(5))));
  });
});

describe('retry policy', () => {
  it('ignores an explicit undefined in the partial policy (the default applies, so the batch is retried)', async () => {
    await sink('undef');
    const writer = new CdmSinkWriter({
      pool: hookPool(db.pool, loseOnceAfter('COMMIT')),
      schema: 'undef',
      retry: { maxAttempts: undefined, baseDelayMs: 1, maxDelayMs: undefined },
    });
    await writer.write('cdm.work.item', workItemRows(5));
    const r = await writer.write('cdm.work.item', workItemRows(10, { changedEvery: 2 }));
    expect(r).toMatchObject({ received: 10, inserted: 5, updated: 3, unchanged: 2 });
  });
});
