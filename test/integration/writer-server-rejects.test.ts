import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdmIdOf, workItemRow } from '../../bench/writer/rows.js';
import { defaultRegistry } from '../../src/models/index.js';
import {
  CdmSinkWriter,
  type CdmWorkItemRow,
  InvalidRowsError,
  type RejectedRow,
  type RetryEvent,
} from '../../src/writer/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { provisionTables } from '../support/provision.js';
import { hookPool } from '../support/writer-hook-pool.js';

/**
 * Rows the validator accepts but Postgres refuses (SQLSTATE class 22 or 23): constraints and triggers a
 * DBA added to a provisioned table. The writer isolates them by bisection inside the batch's
 * transaction and skips or rejects exactly those rows.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('writer_srvrej');
});
afterAll(async () => {
  await db.drop();
});

const CHECK_MESSAGE =
  'rejected by Postgres [23514]: new row for relation "cdm_work_item" violates check constraint "story_points_under_100"';
const TRIGGER_MESSAGE = 'rejected by Postgres [22003]: estimate out of range';

/** A table with rows 0–19 stored, then a CHECK constraint and a trigger raising a class-22 error. */
async function guardedSink(schema: string): Promise<void> {
  await provisionTables(db.pool, { schema, tablePrefix: 'cdm_', sinkId: `ns/${schema}` }, [
    defaultRegistry.get('cdm.work.item'),
  ]);
  await new CdmSinkWriter({ pool: db.pool, schema }).write(
    'cdm.work.item',
    Array.from({ length: 20 }, (_, n) => workItemRow(n)),
  );
  await db.pool.query(`
    ALTER TABLE ${schema}.cdm_work_item ADD CONSTRAINT story_points_under_100 CHECK (story_points < 100);
    CREATE FUNCTION ${schema}.limit_estimate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.original_estimate_seconds > 10000000 THEN
        RAISE EXCEPTION 'estimate out of range' USING ERRCODE = 'numeric_value_out_of_range',
          COLUMN = 'original_estimate_seconds', DETAIL = 'row content: ' || NEW.summary;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER limit_estimate BEFORE INSERT OR UPDATE ON ${schema}.cdm_work_item
      FOR EACH ROW EXECUTE FUNCTION ${schema}.limit_estimate();`);
}

const tooManyPoints = (row: CdmWorkItemRow): CdmWorkItemRow => ({ ...row, story_points: 150 });
const hugeEstimate = (row: CdmWorkItemRow): CdmWorkItemRow => ({
  ...row,
  original_estimate_seconds: 99_999_999,
});

/** `cdm_id → summary` of what the table holds. */
async function summaries(schema: string): Promise<Map<string, string>> {
  const { rows } = await db.pool.query(`SELECT cdm_id, summary FROM ${schema}.cdm_work_item`);
  return new Map(rows.map((r) => [r.cdm_id as string, r.summary as string]));
}

function rejectedRow(index: number, cdmId: string, code: string, field: string, reason: string): RejectedRow {
  return { index, cdmId, code, errors: [{ field, reason }] };
}

describe("rows Postgres refuses, under onInvalidRow: 'skip'", () => {
  it('are isolated by bisection and returned with their SQLSTATE, merged in input order with invalid rows; the rest commits', async () => {
    await guardedSink('skip_srv');
    // 0–19 stored: even ones change (updates), odd ones are the same (unchanged). 20–39 are new (COPY).
    const input: CdmWorkItemRow[] = Array.from({ length: 40 }, (_, n) =>
      workItemRow(n, { version: n < 20 && n % 2 === 0 ? 1 : 0 }),
    );
    input[2] = tooManyPoints(input[2]!);
    input[6] = tooManyPoints(input[6]!);
    input[10] = hugeEstimate(input[10]!);
    input[21] = { ...input[21]!, story_points: 'lots' } as unknown as CdmWorkItemRow;
    input[25] = tooManyPoints(input[25]!);
    input[33] = hugeEstimate(input[33]!);
    const retries: RetryEvent[] = [];
    const writer = new CdmSinkWriter({ pool: db.pool, schema: 'skip_srv', onRetry: (e) => retries.push(e) });

    const r = await writer.write('cdm.work.item', input, { onInvalidRow: 'skip' });

    expect(r).toMatchObject({ received: 40, inserted: 17, updated: 7, unchanged: 10, stale: 0 });
    expect(r.rejected).toEqual([
      rejectedRow(2, cdmIdOf(2), '23514', '', CHECK_MESSAGE),
      rejectedRow(6, cdmIdOf(6), '23514', '', CHECK_MESSAGE),
      rejectedRow(10, cdmIdOf(10), '22003', 'original_estimate_seconds', TRIGGER_MESSAGE),
      {
        index: 21,
        cdmId: cdmIdOf(21),
        errors: [
          { field: 'story_points', reason: 'must be a number (or a decimal string) or null (got "lots")' },
        ],
      },
      rejectedRow(25, cdmIdOf(25), '23514', '', CHECK_MESSAGE),
      rejectedRow(33, cdmIdOf(33), '22003', 'original_estimate_seconds', TRIGGER_MESSAGE),
    ]);
    // Never the server's DETAIL: for a CHECK it is "Failing row contains (…)", the whole row.
    expect(JSON.stringify(r.rejected)).not.toMatch(/Failing row|row content/);
    expect(retries.map((e) => [e.kind, e.code])).toEqual([['data', '23514']]);

    const stored = await summaries('skip_srv');
    const good = Array.from({ length: 40 }, (_, n) => n).filter((n) => ![2, 6, 10, 21, 25, 33].includes(n));
    const expected = new Map(good.map((n) => [cdmIdOf(n), input[n]!.summary]));
    // Refused updates leave the stored version alone; refused new rows are absent.
    for (const n of [2, 6, 10]) expected.set(cdmIdOf(n), workItemRow(n).summary);
    expect(stored).toEqual(expected);
  });

  it("isolates a second unique index's 23505 as a data error, after COPY's 23505 replay and with insertVia upsert", async () => {
    for (const insertVia of ['copy', 'upsert'] as const) {
      const schema = `uniq_${insertVia}`;
      await provisionTables(db.pool, { schema, tablePrefix: 'cdm_', sinkId: `ns/${schema}` }, [
        defaultRegistry.get('cdm.work.item'),
      ]);
      await db.pool.query(
        `CREATE UNIQUE INDEX issue_key_unique ON ${schema}.cdm_work_item (source_issue_key)`,
      );
      const retries: RetryEvent[] = [];
      const writer = new CdmSinkWriter({ pool: db.pool, schema, insertVia, onRetry: (e) => retries.push(e) });
      await writer.write(
        'cdm.work.item',
        Array.from({ length: 10 }, (_, n) => workItemRow(n)),
      );
      const input = [
        { ...workItemRow(4, { version: 1 }), source_issue_key: workItemRow(7).source_issue_key },
        ...Array.from({ length: 5 }, (_, i) => workItemRow(10 + i)),
      ];
      input[3] = { ...input[3]!, source_issue_key: workItemRow(3).source_issue_key };

      const r = await writer.write('cdm.work.item', input, { onInvalidRow: 'skip' });

      expect(r).toMatchObject({ received: 6, inserted: 4, updated: 0, unchanged: 0, stale: 0 });
      expect(r.rejected.map((x) => [x.index, x.cdmId, x.code])).toEqual([
        [0, cdmIdOf(4), '23505'],
        [3, cdmIdOf(12), '23505'],
      ]);
      expect(r.rejected[0]!.errors[0]!.reason).toBe(
        'rejected by Postgres [23505]: duplicate key value violates unique constraint "issue_key_unique"',
      );
      expect(retries.map((e) => e.kind)).toEqual(insertVia === 'copy' ? ['conflict', 'data'] : ['data']);
      const stored = await summaries(schema);
      expect(stored.size).toBe(14);
      expect(stored.get(cdmIdOf(4))).toBe(workItemRow(4).summary);
      expect(stored.has(cdmIdOf(12))).toBe(false);
    }
  });
});

describe('a transient failure while isolating refused rows', () => {
  it('retries the whole batch, isolation included, with the same outcome', async () => {
    await guardedSink('transient_srv');
    const input: CdmWorkItemRow[] = Array.from({ length: 30 }, (_, n) => workItemRow(n, { version: 1 }));
    input[4] = tooManyPoints(input[4]!);
    input[23] = hugeEstimate(input[23]!);
    let armed = true;
    const retries: RetryEvent[] = [];
    const writer = new CdmSinkWriter({
      // The connection is lost right after the first rollback to the savepoint, mid-bisection.
      pool: hookPool(db.pool, {
        loseAfter: (text) => {
          const lose = armed && text.startsWith('ROLLBACK TO SAVEPOINT');
          if (lose) armed = false;
          return lose;
        },
      }),
      schema: 'transient_srv',
      retry: { baseDelayMs: 1, maxDelayMs: 1 },
      onRetry: (e) => retries.push(e),
    });

    const r = await writer.write('cdm.work.item', input, { onInvalidRow: 'skip' });

    expect(armed).toBe(false);
    expect(retries.map((e) => e.kind)).toEqual(['data', 'transient']);
    expect(r).toMatchObject({ received: 30, inserted: 9, updated: 19, unchanged: 0, stale: 0 });
    expect(r.rejected.map((x) => [x.index, x.code])).toEqual([
      [4, '23514'],
      [23, '22003'],
    ]);
    const stored = await summaries('transient_srv');
    expect(stored.get(cdmIdOf(4))).toBe(workItemRow(4).summary);
    expect(stored.has(cdmIdOf(23))).toBe(false);
    expect(stored.get(cdmIdOf(5))).toBe(workItemRow(5, { version: 1 }).summary);
  });
});

describe("rows Postgres refuses, under onInvalidRow: 'reject'", () => {
  it('roll back their whole batch and throw InvalidRowsError naming them; earlier batches stay committed', async () => {
    await guardedSink('reject_srv');
    // Batch 1 (0–19): every stored row changes, all acceptable. Batch 2 (20–39): new rows 20–38 and
    // one more change of row 5, three of them refused.
    const input: CdmWorkItemRow[] = [
      ...Array.from({ length: 20 }, (_, n) => workItemRow(n, { version: 1 })),
      ...Array.from({ length: 19 }, (_, i) => workItemRow(20 + i)),
      tooManyPoints(workItemRow(5, { version: 2 })),
    ];
    input[25] = tooManyPoints(input[25]!);
    input[33] = hugeEstimate(input[33]!);
    const writer = new CdmSinkWriter({ pool: db.pool, schema: 'reject_srv', batchRows: 20 });

    const error = (await writer.write('cdm.work.item', input).catch((e: unknown) => e)) as InvalidRowsError;

    expect(error).toBeInstanceOf(InvalidRowsError);
    expect(error.committedRows).toBe(20);
    expect(error.rejected).toEqual([
      rejectedRow(25, cdmIdOf(25), '23514', '', CHECK_MESSAGE),
      rejectedRow(33, cdmIdOf(33), '22003', 'original_estimate_seconds', TRIGGER_MESSAGE),
      rejectedRow(39, cdmIdOf(5), '23514', '', CHECK_MESSAGE),
    ]);
    expect(error.message).toContain(`row 25 (cdm_id "${cdmIdOf(25)}"): (row) ${CHECK_MESSAGE}`);
    // Batch 1 committed, nothing of batch 2 (its acceptable rows included).
    expect(await summaries('reject_srv')).toEqual(
      new Map(Array.from({ length: 20 }, (_, n) => [cdmIdOf(n), workItemRow(n, { version: 1 }).summary])),
    );
  });
});
