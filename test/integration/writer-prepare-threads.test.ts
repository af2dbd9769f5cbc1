import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdmIdOf, workItemRow } from '../../bench/writer/rows.js';
import { defaultRegistry } from '../../src/models/index.js';
import { CdmSinkWriter, type CdmWorkItemRow, InvalidRowsError } from '../../src/writer/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { provisionTables } from '../support/provision.js';

/**
 * The writer with its prepare workers on (`prepareThreads: 1`; the default is none on a 2-core machine):
 * the rows past the first batch are prepared on a worker thread, and results, counts and the row
 * indexes in errors are exactly those of preparing on this thread.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('writer_threads');
  for (const schema of ['threads_on', 'threads_off']) {
    await provisionTables(db.pool, { schema, tablePrefix: 'cdm_', sinkId: `ns/${schema}` }, [
      defaultRegistry.get('cdm.work.item'),
    ]);
  }
});
afterAll(async () => {
  await db.drop();
});

const COUNT = 3000;
/** Every 97th row is invalid in one of three ways; rows 1500–1599 repeat rows 0–99 with a newer version. */
function* input(): Generator<CdmWorkItemRow> {
  for (let n = 0; n < COUNT; n++) {
    if (n % 97 === 5) {
      const kind = n % 3;
      yield (kind === 0
        ? { ...workItemRow(n), status_category: 'closed' }
        : kind === 1
          ? { ...workItemRow(n), properties: { when: new Date(0) } }
          : { ...workItemRow(n), story_points: '9'.repeat(131073) }) as unknown as CdmWorkItemRow;
    } else if (n >= 1500 && n < 1600) {
      yield workItemRow(n - 1500, { version: 1 });
    } else {
      yield workItemRow(n);
    }
  }
}

async function tableDump(schema: string) {
  const { rows } = await db.pool.query(
    `SELECT cdm_id, _row_hash, summary FROM ${schema}.cdm_work_item ORDER BY cdm_id`,
  );
  return rows;
}

describe('prepare threads', () => {
  it('write the same rows, with the same counts and rejected indexes, as preparing on this thread', async () => {
    const on = new CdmSinkWriter({ pool: db.pool, schema: 'threads_on', batchRows: 500, prepareThreads: 1 });
    const off = new CdmSinkWriter({
      pool: db.pool,
      schema: 'threads_off',
      batchRows: 500,
      prepareThreads: 0,
    });
    const withThreads = await on.write('cdm.work.item', input(), { onInvalidRow: 'skip' });
    const without = await off.write('cdm.work.item', input(), { onInvalidRow: 'skip' });
    expect(withThreads).toEqual(without);
    const invalid = Array.from({ length: COUNT }, (_, n) => n).filter((n) => n % 97 === 5);
    expect(withThreads.rejected.map((r) => r.index)).toEqual(invalid);
    expect(withThreads.rejected.map((r) => r.cdmId)).toEqual(invalid.map(cdmIdOf));
    expect(await tableDump('threads_on')).toEqual(await tableDump('threads_off'));
    await Promise.all([on.close(), off.close()]);
  });

  it('name the first invalid row past the first batch in reject mode, at its exact input index', async () => {
    const on = new CdmSinkWriter({ pool: db.pool, schema: 'threads_on', batchRows: 500, prepareThreads: 1 });
    const rows = Array.from({ length: 2000 }, (_, n) =>
      n === 1234 ? { ...workItemRow(n), summary: 7 } : workItemRow(n),
    ) as unknown as CdmWorkItemRow[];
    const error = await on.write('cdm.work.item', rows).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRowsError);
    expect((error as InvalidRowsError).rejected.map((r) => [r.index, r.errors[0]?.field])).toEqual([
      [1234, 'summary'],
    ]);
    await on.close();
  });
});
