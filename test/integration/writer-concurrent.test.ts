import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdmIdOf, workItemRow } from '../../bench/writer/rows.js';
import { defaultRegistry } from '../../src/models/index.js';
import {
  CdmSinkWriter,
  type CdmWorkItemRow,
  type RetryEvent,
  type WriteResult,
} from '../../src/writer/index.js';
import { normalizeTimestamp } from '../../src/writer/timestamps.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { prng } from '../support/prng.js';
import { provisionTables } from '../support/provision.js';
import { hookPool } from '../support/writer-hook-pool.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('writer_conc');
  await provisionTables(db.pool, { schema: 'conc', tablePrefix: 'cdm_', sinkId: 'ns/conc' }, [
    defaultRegistry.get('cdm.work.item'),
  ]);
});
afterAll(async () => {
  await db.drop();
});

const WRITERS = 4;
/** Keys every writer writes. */
const SHARED = 1200;
/** Keys only one writer writes, per writer. */
const OWN = 300;

/**
 * The version writer `w` delivers of shared key `n`: each key gets four different versions (so four
 * different `updated_at` and contents), and which writer holds the newest one varies with the key.
 */
function versionOf(w: number, n: number): number {
  return (n * 7 + w) % WRITERS;
}

/** Writer `w`'s rows: the shared keys, then its own, in an order of its own. */
function inputOf(w: number): CdmWorkItemRow[] {
  const shared = Array.from({ length: SHARED }, (_, n) => workItemRow(n, { version: versionOf(w, n) }));
  const own = Array.from({ length: OWN }, (_, i) => workItemRow(SHARED + w * OWN + i, { version: w }));
  const rows = [...shared, ...own];
  switch (w) {
    case 0:
      return rows;
    case 1:
      return rows.reverse();
    case 2: {
      // Seeded Fisher–Yates: a fixed, unsorted order.
      const random = prng(42);
      for (let i = rows.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [rows[i], rows[j]] = [rows[j]!, rows[i]!];
      }
      return rows;
    }
    default:
      // Odd positions first, then even ones.
      return [...rows.filter((_, i) => i % 2 === 1), ...rows.filter((_, i) => i % 2 === 0)];
  }
}

function line(row: CdmWorkItemRow): string {
  return `${row.cdm_id}|${row.summary}|${normalizeTimestamp(row.updated_at!)}`;
}

describe('four writers on one table', () => {
  it('with overlapping keys, different versions and orders: no deadlock, no error, the newest version of each key stored', async () => {
    const pools = Array.from({ length: WRITERS }, (_, w) => {
      const pool = new pg.Pool({ connectionString: db.url, max: 2, application_name: `writer-conc-${w}` });
      pool.on('error', () => {});
      return pool;
    });
    const retries: RetryEvent[] = [];
    try {
      const inputs = Array.from({ length: WRITERS }, (_, w) => inputOf(w));
      const results: WriteResult[] = await Promise.all(
        inputs.map((input, w) =>
          new CdmSinkWriter({
            pool: pools[w]!,
            schema: 'conc',
            batchRows: 100,
            onRetry: (e) => retries.push(e),
          }).write('cdm.work.item', input),
        ),
      );

      expect(retries.filter((e) => e.kind !== 'conflict')).toEqual([]);
      for (const r of results) {
        expect(r.received).toBe(SHARED + OWN);
        expect(r.inserted + r.updated + r.unchanged + r.stale + r.rejected.length).toBe(r.received);
        expect(r.rejected).toEqual([]);
      }
      // Each key was inserted exactly once, by whichever writer got there first.
      expect(results.reduce((sum, r) => sum + r.inserted, 0)).toBe(SHARED + WRITERS * OWN);

      const expected = new Map<string, string>();
      for (const input of inputs) {
        for (const row of input) {
          const current = expected.get(row.cdm_id);
          if (!current || current.split('|')[2]! < normalizeTimestamp(row.updated_at!)!) {
            expected.set(row.cdm_id, line(row));
          }
        }
      }
      // The newest of each shared key is version 3, delivered by exactly one writer.
      expect(expected.get(cdmIdOf(0))).toBe(line(workItemRow(0, { version: 3 })));
      const { rows } = await db.pool.query(
        `SELECT cdm_id || '|' || summary || '|' ||
                to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS line
         FROM conc.cdm_work_item`,
      );
      expect(new Map(rows.map((r) => [(r.line as string).split('|')[0]!, r.line as string]))).toEqual(
        expected,
      );
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  }, 120_000);
});

describe('lock order within a batch', () => {
  it('a batch with a new key and a changed key takes their locks in key order, so a crossing transaction cannot deadlock it', async () => {
    await provisionTables(db.pool, { schema: 'order', tablePrefix: 'cdm_', sinkId: 'ns/order' }, [
      defaultRegistry.get('cdm.work.item'),
    ]);
    const [b, c] = [workItemRow(1), workItemRow(2)];
    await new CdmSinkWriter({ pool: db.pool, schema: 'order' }).write('cdm.work.item', [b]);

    // Another transaction holds b once the writer has looked its keys up (b changed, c new), and then
    // inserts c. Were c COPYed before b is upserted, the two would wait on each other: 40P01.
    const other = await db.pool.connect();
    let armed = true;
    const writerPool = new pg.Pool({ connectionString: db.url, max: 2, application_name: 'order_writer' });
    writerPool.on('error', () => {});
    const retries: RetryEvent[] = [];
    const writer = new CdmSinkWriter({
      pool: hookPool(writerPool, {
        async afterNamed(name) {
          if (!armed || !name.startsWith('cdm_writer_lookup')) return;
          armed = false;
          await other.query('BEGIN');
          await other.query('UPDATE "order".cdm_work_item SET summary = summary WHERE cdm_id = $1', [
            b.cdm_id,
          ]);
        },
      }),
      schema: 'order',
      retry: { maxAttempts: 3, baseDelayMs: 10 },
      onRetry: (event) => retries.push(event),
    });
    const writing = writer.write('cdm.work.item', [workItemRow(1, { version: 1 }), c]);
    // Until the writer waits for b's lock.
    for (let waiting = 0; waiting === 0; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const { rows } = await db.pool.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'order_writer' AND wait_event_type = 'Lock'`,
      );
      waiting = rows[0].n;
    }
    let otherError: unknown;
    try {
      await other.query(
        `INSERT INTO "order".cdm_work_item (cdm_id, project_cdm_id, issue_type, status, status_category, summary, created_at, updated_at)
         VALUES ($1, 'p', 'Bug', 'Open', 'todo', 'from the other transaction', '2020-01-01Z', '2020-01-01Z')
         ON CONFLICT (cdm_id) DO NOTHING`,
        [c.cdm_id],
      );
      await other.query('COMMIT');
    } catch (error) {
      otherError = error;
      await other.query('ROLLBACK');
    } finally {
      other.release();
    }
    const result = await writing;
    expect(otherError).toBeUndefined();
    expect(retries.map((r) => r.code)).toEqual([]);
    // c landed first (the other transaction), then the writer's newer version replaced it.
    expect(result).toMatchObject({ inserted: 0, updated: 2, unchanged: 0, stale: 0 });
    await Promise.all([writer.close(), writerPool.end()]);
  });
});
