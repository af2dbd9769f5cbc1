import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdmIdOf, workItemRow } from '../../bench/writer/rows.js';
import { defaultRegistry } from '../../src/models/index.js';
import {
  CdmSinkWriter,
  type CdmWorkItemRow,
  InvalidRowsError,
  type RejectedRow,
} from '../../src/writer/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { provisionTables } from '../support/provision.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('writer_valid');
});
afterAll(async () => {
  await db.drop();
});

const { cdm_id: _, ...withoutId } = workItemRow(12);
/**
 * Rows 0–29; six bad ones in the second batch of ten (12–17), which the row types reject: they stand for
 * what a JavaScript caller can pass.
 */
function input(): CdmWorkItemRow[] {
  const rows: unknown[] = Array.from({ length: 30 }, (_, n) => workItemRow(n));
  rows[12] = withoutId;
  rows[13] = { ...workItemRow(13), story_points: 'lots', labels: 'backend', is_private: true };
  rows[14] = { ...workItemRow(14), summary: 'nul \u0000 inside' };
  rows[15] = { ...workItemRow(15), created_at: '2024-02-30T00:00:00Z', updated_at: '03/04/2024' };
  rows[16] = { ...workItemRow(16), colour: 'red' };
  rows[17] = { ...workItemRow(17), status_category: 'closed', properties: { note: 'a\u0000b' } };
  return rows as CdmWorkItemRow[];
}

const expectedRejections: RejectedRow[] = [
  { index: 12, cdmId: undefined, errors: [{ field: 'cdm_id', reason: 'is required' }] },
  {
    index: 13,
    cdmId: cdmIdOf(13),
    errors: [
      { field: 'story_points', reason: 'must be a number (or a decimal string) or null (got "lots")' },
      { field: 'labels', reason: 'must be an array of strings (got "backend")' },
      { field: 'is_private', reason: 'is not a field of cdm.work.item' },
    ],
  },
  {
    index: 14,
    cdmId: cdmIdOf(14),
    errors: [
      { field: 'summary', reason: 'contains a NUL character (\\u0000), which Postgres cannot store in text' },
    ],
  },
  {
    index: 15,
    cdmId: cdmIdOf(15),
    errors: [
      {
        field: 'created_at',
        reason:
          'must be a valid RFC 3339 timestamp with a time zone, e.g. 2024-05-01T12:00:00Z (got "2024-02-30T00:00:00Z")',
      },
      {
        field: 'updated_at',
        reason:
          'must be a valid RFC 3339 timestamp with a time zone, e.g. 2024-05-01T12:00:00Z (got "03/04/2024")',
      },
    ],
  },
  { index: 16, cdmId: cdmIdOf(16), errors: [{ field: 'colour', reason: 'is not a field of cdm.work.item' }] },
  {
    index: 17,
    cdmId: cdmIdOf(17),
    errors: [
      { field: 'status_category', reason: 'must be one of todo, in_progress, done, unknown (got "closed")' },
      {
        field: 'properties',
        reason:
          'must be plain JSON: properties.note contains a NUL character (\\u0000), which Postgres cannot store in text',
      },
    ],
  },
];

function sortErrors(rejected: readonly RejectedRow[]) {
  return rejected.map((r) => ({
    ...r,
    errors: [...r.errors].sort((a, b) => a.field.localeCompare(b.field)),
  }));
}

async function storedIds(schema: string): Promise<string[]> {
  const { rows } = await db.pool.query(`SELECT cdm_id FROM ${schema}.cdm_work_item ORDER BY cdm_id`);
  return rows.map((r) => r.cdm_id);
}

describe('invalid rows', () => {
  it("'reject' fails the batch holding a bad row before any of it is written; earlier batches stay committed", async () => {
    await provisionTables(db.pool, { schema: 'rej', tablePrefix: 'cdm_', sinkId: 'ns/rej' }, [
      defaultRegistry.get('cdm.work.item'),
    ]);
    const writer = new CdmSinkWriter({ pool: db.pool, schema: 'rej', batchRows: 10 });
    const error = (await writer.write('cdm.work.item', input()).catch((e) => e)) as InvalidRowsError;
    expect(error).toBeInstanceOf(InvalidRowsError);
    expect(sortErrors(error.rejected)).toEqual(sortErrors(expectedRejections));
    expect(error.committedRows).toBe(10);
    expect(error.message).toContain(`row 13 (cdm_id "${cdmIdOf(13)}"): `);
    expect(error.message).toContain(
      'story_points must be a number (or a decimal string) or null (got "lots")',
    );
    // Rows 0–9 committed; nothing of rows 10–19 (valid ones included) nor of the batch after.
    expect(await storedIds('rej')).toEqual(Array.from({ length: 10 }, (_, n) => cdmIdOf(n)).sort());
  });

  it("'skip' writes every valid row and returns the bad ones with index, cdm_id, field and reason", async () => {
    await provisionTables(db.pool, { schema: 'skp', tablePrefix: 'cdm_', sinkId: 'ns/skp' }, [
      defaultRegistry.get('cdm.work.item'),
    ]);
    const writer = new CdmSinkWriter({ pool: db.pool, schema: 'skp', batchRows: 10 });
    const r = await writer.write('cdm.work.item', input(), { onInvalidRow: 'skip' });
    expect(r).toMatchObject({ received: 30, inserted: 24, updated: 0, unchanged: 0, stale: 0 });
    expect(sortErrors(r.rejected)).toEqual(sortErrors(expectedRejections));
    const valid = Array.from({ length: 30 }, (_, n) => n).filter((n) => n < 12 || n > 17);
    expect(await storedIds('skp')).toEqual(valid.map(cdmIdOf).sort());
  });
});
