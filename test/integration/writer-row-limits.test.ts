import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdmIdOf, workItemRow } from '../../bench/writer/rows.js';
import { defaultRegistry } from '../../src/models/index.js';
import { CdmSinkWriter, type CdmWorkItemRow, InvalidRowsError } from '../../src/writer/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { provisionTables } from '../support/provision.js';

/**
 * One row must never be able to exhaust the process or sink the rows around it (issue 12, item 5): a
 * huge text or JSON value is refused as an invalid row before it is escaped or serialised, and a decimal
 * with more digits than `numeric` holds is refused before Postgres fails its whole batch with 22003.
 */

let db: TestDatabase;
let writer: CdmSinkWriter;
beforeAll(async () => {
  db = await createTestDatabase('writer_limits');
  await provisionTables(db.pool, { schema: 'limits', tablePrefix: 'cdm_', sinkId: 'ns/limits' }, [
    defaultRegistry.get('cdm.work.item'),
  ]);
  writer = new CdmSinkWriter({ pool: db.pool, schema: 'limits', batchRows: 10 });
});
afterAll(async () => {
  await writer.close();
  await db.drop();
});

async function storedIds(): Promise<string[]> {
  const { rows } = await db.pool.query<{ cdm_id: string }>(
    'SELECT cdm_id FROM limits.cdm_work_item ORDER BY cdm_id',
  );
  return rows.map((r) => r.cdm_id);
}

/** Rows `from`..`from + 29`, with `bad` placed at position 5: three batches of ten. */
function around(from: number, bad: (n: number) => unknown): CdmWorkItemRow[] {
  return Array.from({ length: 30 }, (_, i) =>
    i === 5 ? bad(from + i) : workItemRow(from + i),
  ) as CdmWorkItemRow[];
}

describe('per-row limits', () => {
  it('refuses 35 MB of backslashes in properties as an invalid row, and writes every other row', async () => {
    const rows = around(0, (n) => ({ ...workItemRow(n), properties: { p: '\\'.repeat(35e6) } }));
    const result = await writer.write('cdm.work.item', rows, { onInvalidRow: 'skip' });
    expect(result.rejected).toEqual([
      {
        index: 5,
        cdmId: cdmIdOf(5),
        errors: [
          {
            field: 'properties',
            reason: expect.stringMatching(/^is too large: .*maxRowBytes of 16777216 bytes/),
          },
        ],
      },
    ]);
    expect(result.inserted).toBe(29);
    expect((await storedIds()).length).toBe(29);
  });

  it('refuses a 70 MB description of backslashes, naming the field', async () => {
    const rows = around(100, (n) => ({ ...workItemRow(n), description: '\\'.repeat(70e6) }));
    const error = await writer.write('cdm.work.item', rows).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRowsError);
    expect((error as InvalidRowsError).rejected.map((r) => [r.index, r.errors[0]?.field])).toEqual([
      [5, 'description'],
    ]);
    expect((error as InvalidRowsError).message).toContain('description is too large');
  });

  it('refuses a label of 35 MB of backslashes before building the array literal', async () => {
    const rows = around(150, (n) => ({ ...workItemRow(n), labels: ['ok', '\\'.repeat(35e6)] }));
    const result = await writer.write('cdm.work.item', rows, { onInvalidRow: 'skip' });
    expect(result.rejected.map((r) => [r.index, r.errors[0]?.field])).toEqual([[5, 'labels']]);
    expect(result.inserted).toBe(29);
  });

  it('refuses a properties key of 35 MB of backslashes before serialising it', async () => {
    const rows = around(600, (n) => ({ ...workItemRow(n), properties: { ['\\'.repeat(35e6)]: 1 } }));
    const result = await writer.write('cdm.work.item', rows, { onInvalidRow: 'skip' });
    expect(result.rejected.map((r) => [r.index, r.errors[0]?.field])).toEqual([[5, 'properties']]);
    expect(result.inserted).toBe(29);
  });

  it('refuses a numeric beyond Postgres numeric, and keeps writing the valid rows of its batch and the later batches', async () => {
    const rows = around(200, (n) => ({ ...workItemRow(n), story_points: '9'.repeat(131073) }));
    const before = (await storedIds()).length;
    const result = await writer.write('cdm.work.item', rows, { onInvalidRow: 'skip' });
    expect(result.rejected).toEqual([
      {
        index: 5,
        cdmId: cdmIdOf(205),
        errors: [
          {
            field: 'story_points',
            reason: expect.stringMatching(
              /^9{20}… \(131073 characters\) has more digits than Postgres numeric holds/,
            ),
          },
        ],
      },
    ]);
    expect(result.inserted).toBe(29);
    expect((await storedIds()).length).toBe(before + 29);
  });

  it('accepts the largest numeric Postgres holds, leading zeros aside', async () => {
    const big = `000${'9'.repeat(131072)}.${'1'.repeat(16383)}`;
    const result = await writer.write('cdm.work.item', [
      { ...workItemRow(300), story_points: big } as unknown as CdmWorkItemRow,
    ]);
    expect(result.inserted).toBe(1);
    const { rows } = await db.pool.query(
      `SELECT length(story_points::text) AS digits FROM limits.cdm_work_item WHERE cdm_id = $1`,
      [cdmIdOf(300)],
    );
    expect(rows[0].digits).toBe(131072 + 1 + 16383);
  });

  it('honours a smaller maxRowBytes: a row just under it is written, one just over is refused', async () => {
    const small = new CdmSinkWriter({ pool: db.pool, schema: 'limits', maxRowBytes: 8192 });
    const base = { ...workItemRow(400), description: '' };
    const probe = await small.write('cdm.work.item', [base]);
    expect(probe.inserted).toBe(1);
    // The line of `base` plus the description must cross 8,192 bytes somewhere between these two.
    const under = await small.write('cdm.work.item', [
      { ...workItemRow(401), description: 'é'.repeat(2500) },
    ]);
    expect(under.inserted).toBe(1);
    const over = await small.write(
      'cdm.work.item',
      [{ ...workItemRow(402), description: 'é'.repeat(4200) }],
      {
        onInvalidRow: 'skip',
      },
    );
    expect(over.rejected.map((r) => r.errors[0]?.field)).toEqual(['description']);
    expect(over.rejected[0]?.errors[0]?.reason).toContain('maxRowBytes of 8192 bytes');
    await small.close();
  });

  it('refuses a maxRowBytes that is not a whole number between 1 KiB and 256 MiB', () => {
    for (const maxRowBytes of [0, 100, 1.5, 2 ** 29, Number.NaN]) {
      expect(
        () => new CdmSinkWriter({ pool: db.pool, schema: 'limits', maxRowBytes }),
        String(maxRowBytes),
      ).toThrow(/maxRowBytes/);
    }
  });
});
