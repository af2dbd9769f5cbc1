import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdmIdOf, workItemRow, workItemRows } from '../../bench/writer/rows.js';
import { defaultRegistry } from '../../src/models/index.js';
import { CdmSinkWriter, type CdmWorkItemRow, type WriteProgress } from '../../src/writer/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { provisionTables } from '../support/provision.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('writer_progress');
});
afterAll(async () => {
  await db.drop();
});

async function sink(schema: string): Promise<void> {
  await provisionTables(db.pool, { schema, tablePrefix: 'cdm_', sinkId: `ns/${schema}` }, [
    defaultRegistry.get('cdm.work.item'),
  ]);
}

async function storedIds(schema: string): Promise<string[]> {
  const { rows } = await db.pool.query(`SELECT cdm_id FROM ${schema}.cdm_work_item ORDER BY cdm_id`);
  return rows.map((r) => r.cdm_id as string);
}

describe('onProgress', () => {
  it('is called after each settled batch with the input rows done so far, rejected ones included', async () => {
    await sink('progress');
    const input: CdmWorkItemRow[] = Array.from({ length: 35 }, (_, n) => workItemRow(n));
    input[12] = { ...input[12]!, story_points: 'lots' } as unknown as CdmWorkItemRow;
    // A duplicate: superseded inside its batch, still an input row whose outcome is known.
    input[13] = { ...workItemRow(11), summary: 'duplicate of 11' };
    const seen: WriteProgress<'cdm.work.item'>[] = [];
    const writer = new CdmSinkWriter({ pool: db.pool, schema: 'progress', batchRows: 10 });
    const r = await writer.write('cdm.work.item', input, {
      onInvalidRow: 'skip',
      onProgress: (progress) => seen.push(progress),
    });
    expect(r).toMatchObject({ received: 35, inserted: 33, unchanged: 1, rejected: [{ index: 12 }] });
    // Batches of 10 distinct keys: the invalid row and the duplicate make the second one 12 input rows.
    expect(seen.map((p) => [p.modelId, p.rowsDone])).toEqual([
      ['cdm.work.item', 10],
      ['cdm.work.item', 22],
      ['cdm.work.item', 32],
      ['cdm.work.item', 35],
    ]);
    for (const p of seen) {
      expect(Number.isInteger(p.rowsPerSecond)).toBe(true);
      expect(p.rowsPerSecond).toBeGreaterThanOrEqual(0);
    }
  });

  it('a callback that throws ends the call with its error: the batch it reported is committed, no later one is sent', async () => {
    await sink('progress_throws');
    const writer = new CdmSinkWriter({ pool: db.pool, schema: 'progress_throws', batchRows: 10 });
    const boom = new Error('progress sink broke');
    const error = await writer
      .write('cdm.work.item', workItemRows(35), {
        onProgress: ({ rowsDone }) => {
          if (rowsDone === 20) throw boom;
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBe(boom);
    expect(await storedIds('progress_throws')).toEqual(
      Array.from({ length: 20 }, (_, n) => cdmIdOf(n)).sort(),
    );
    // The writer stays usable, and a re-run picks up where the call stopped.
    const rerun = await writer.write('cdm.work.item', workItemRows(35));
    expect(rerun).toMatchObject({ received: 35, inserted: 15, unchanged: 20 });
  });
});
