import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdmIdOf, workItemRow, workItemRows } from '../../bench/writer/rows.js';
import { defaultRegistry } from '../../src/models/index.js';
import {
  CdmSinkWriter,
  type CdmWorkItemRow,
  type CdmWorkProjectRow,
  type RetryEvent,
} from '../../src/writer/index.js';
import { LineBuffer } from '../../src/writer/line-buffer.js';
import { compileModelTarget } from '../../src/writer/model-target.js';
import { upsertParams } from '../../src/writer/upsert-params.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { provisionTables } from '../support/provision.js';
import { hookPool } from '../support/writer-hook-pool.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('writer_upsert');
});
afterAll(async () => {
  await db.drop();
});

const item = defaultRegistry.get('cdm.work.item');
const project = defaultRegistry.get('cdm.work.project');

/** Row `n` at a given `updated_at`, told apart by its summary. */
function version(n: number, updatedAt: string, summary: string): CdmWorkItemRow {
  return { ...workItemRow(n), updated_at: updatedAt, summary };
}

function projectIdOf(n: number): string {
  return `jira:acme.atlassian.net:project:${n}`;
}

/** A `cdm.work.project` row, whose `updated_at` may be null. */
function projectRow(n: number, updatedAt: string | null, name: string): CdmWorkProjectRow {
  return { cdm_id: projectIdOf(n), source_project_key: `P${n}`, name, updated_at: updatedAt };
}

async function sink(schema: string): Promise<void> {
  await provisionTables(db.pool, { schema, tablePrefix: 'cdm_', sinkId: `ns/${schema}` }, [item]);
}

function writerFor(schema: string, extra: Partial<ConstructorParameters<typeof CdmSinkWriter>[0]> = {}) {
  return new CdmSinkWriter({ pool: db.pool, schema, ...extra });
}

async function rowsOf(schema: string): Promise<Map<string, Record<string, unknown>>> {
  const { rows } = await db.pool.query(`SELECT * FROM ${schema}.cdm_work_item`);
  return new Map(rows.map((r) => [r.cdm_id as string, r]));
}

function balanced(r: {
  received: number;
  inserted: number;
  updated: number;
  unchanged: number;
  stale: number;
  rejected: readonly unknown[];
}) {
  return r.inserted + r.updated + r.unchanged + r.stale + r.rejected.length === r.received;
}

interface TableStats {
  n_tup_ins: number;
  n_tup_upd: number;
  n_tup_hot_upd: number;
  n_dead_tup: number;
  idx_scan: number;
}

async function tableStats(schema: string): Promise<TableStats> {
  const { rows } = await db.pool.query(
    `SELECT n_tup_ins::int, n_tup_upd::int, n_tup_hot_upd::int, n_dead_tup::int, coalesce(idx_scan, 0)::int AS idx_scan
     FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'cdm_work_item'`,
    [schema],
  );
  return rows[0] as TableStats;
}

/**
 * Statistics reach pg_stat_user_tables asynchronously: a busy backend flushes its counters at most once
 * a second, and finally when it exits. So the writer runs on its own pool, which is ended; we wait until
 * its backends are gone, then until the counters stop moving.
 */
async function writeAndSettleStats(schema: string, rows: AsyncIterable<CdmWorkItemRow>) {
  const before = await tableStats(schema);
  const applicationName = `writer-stats-${Math.random().toString(36).slice(2)}`;
  const pool = new pg.Pool({ connectionString: db.url, max: 2, application_name: applicationName });
  const writer = new CdmSinkWriter({ pool, schema });
  const result = await writer.write('cdm.work.item', rows);
  await pool.end();
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  for (let i = 0; i < 100; i++) {
    const { rows: alive } = await db.pool.query(
      'SELECT 1 FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    if (alive.length === 0) break;
    await sleep(50);
  }
  let after = await tableStats(schema);
  for (let i = 0; i < 50; i++) {
    await sleep(200);
    const next = await tableStats(schema);
    const stable = JSON.stringify(next) === JSON.stringify(after);
    after = next;
    if (stable && after.idx_scan > before.idx_scan) break;
  }
  expect(after.idx_scan).toBeGreaterThan(before.idx_scan);
  return { result, before, after };
}

describe('upsert semantics', () => {
  it('inserts, skips unchanged rows without touching them, and updates only changed rows', async () => {
    await sink('basic');
    const writer = writerFor('basic', { batchRows: 7 });
    const first = await writer.write('cdm.work.item', workItemRows(50));
    expect(first).toMatchObject({
      received: 50,
      inserted: 50,
      updated: 0,
      unchanged: 0,
      stale: 0,
      rejected: [],
    });
    const stored = await rowsOf('basic');

    const again = await writer.write('cdm.work.item', workItemRows(50));
    expect(again).toMatchObject({ received: 50, inserted: 0, updated: 0, unchanged: 50, stale: 0 });
    const afterAgain = await rowsOf('basic');
    for (const [id, row] of stored) {
      expect(afterAgain.get(id)!.synced_at).toEqual(row.synced_at);
      expect(afterAgain.get(id)!._row_hash).toBe(row._row_hash);
    }

    const changed = await writer.write('cdm.work.item', workItemRows(50, { changedEvery: 5 }));
    expect(changed).toMatchObject({ received: 50, inserted: 0, updated: 10, unchanged: 40, stale: 0 });
    const afterChange = await rowsOf('basic');
    for (let n = 0; n < 50; n++) {
      const before = stored.get(cdmIdOf(n))!;
      const after = afterChange.get(cdmIdOf(n))!;
      if (n % 5 === 0) {
        expect(after.summary).toMatch(/\(v1\)$/);
        expect((after.synced_at as Date).getTime()).toBeGreaterThan((before.synced_at as Date).getTime());
      } else {
        expect(after.synced_at).toEqual(before.synced_at);
      }
    }

    // One batch with new rows (COPY) and changed ones (upsert) commits as one transaction.
    const mixed = await writerFor('basic').write(
      'cdm.work.item',
      workItemRows(60, { changedEvery: 5, version: 1 }),
    );
    expect(mixed).toMatchObject({ received: 60, inserted: 10, updated: 50, unchanged: 0, stale: 0 });
    const { rows: count } = await db.pool.query(
      "SELECT count(*)::int AS n, count(*) FILTER (WHERE summary LIKE '%(v2)')::int AS v2 FROM basic.cdm_work_item",
    );
    expect(count[0]).toEqual({ n: 60, v2: 12 });
  });

  it('never lets a re-delivered older row overwrite a newer one, and counts it as stale', async () => {
    await sink('stale');
    const writer = writerFor('stale');
    await writer.write('cdm.work.item', [workItemRow(1, { version: 2 }), workItemRow(2)]);
    const older = { ...workItemRow(1, { version: 1 }), summary: 'older delivery' };
    const sameTime = { ...workItemRow(2), summary: 'same updated_at, new content' };
    const r = await writer.write('cdm.work.item', [older, sameTime]);
    expect(r).toMatchObject({ received: 2, inserted: 0, updated: 1, unchanged: 0, stale: 1 });
    expect(balanced(r)).toBe(true);
    const rows = await rowsOf('stale');
    expect(rows.get(cdmIdOf(1))!.summary).toMatch(/\(v2\)$/);
    expect(rows.get(cdmIdOf(2))!.summary).toBe('same updated_at, new content');
  });

  it('keeps the last occurrence of a duplicate cdm_id within one call', async () => {
    await sink('dupes');
    const writer = writerFor('dupes', { batchRows: 3 });
    const input = [
      { ...workItemRow(1), summary: 'first' },
      workItemRow(2),
      { ...workItemRow(1), summary: 'second' },
      { ...workItemRow(1), summary: 'third' },
      workItemRow(3),
      workItemRow(4),
      // A later batch: newer data still wins across batches.
      { ...workItemRow(1, { version: 1 }), summary: 'last' },
    ];
    const r = await writer.write('cdm.work.item', input);
    expect(r).toMatchObject({ received: 7, inserted: 4, updated: 1, unchanged: 2, stale: 0 });
    expect(balanced(r)).toBe(true);
    expect((await rowsOf('dupes')).get(cdmIdOf(1))!.summary).toBe('last');
  });

  it('keeps the duplicate with the newest updated_at inside one batch, whatever its position', async () => {
    await sink('newest');
    const writer = writerFor('newest');
    await writer.write('cdm.work.item', [version(1, '2026-01-05T00:00:00Z', 'v5')]);
    const r = await writer.write('cdm.work.item', [
      version(1, '2026-01-09T00:00:00Z', 'v9'),
      version(1, '2026-01-01T00:00:00Z', 'v1'),
    ]);
    // The dropped duplicate counts as unchanged, like any superseded one.
    expect(r).toMatchObject({ received: 2, inserted: 0, updated: 1, unchanged: 1, stale: 0 });
    expect(balanced(r)).toBe(true);
    const stored = (await rowsOf('newest')).get(cdmIdOf(1))!;
    expect(stored.summary).toBe('v9');
    expect((stored.updated_at as Date).toISOString()).toBe('2026-01-09T00:00:00.000Z');
  });

  it('compares duplicates by the instant of updated_at, not by its spelling', async () => {
    await sink('instants');
    const r = await writerFor('instants').write('cdm.work.item', [
      // 2026-01-08T22:00Z: older than 23:00Z although its text sorts after it.
      version(1, '2026-01-09T00:00:00+02:00', 'plus two, older'),
      version(1, '2026-01-08T23:00:00Z', 'utc, newer'),
      version(2, '2026-01-08T23:00:00Z', 'utc, newer'),
      version(2, '2026-01-09T00:00:00+02:00', 'plus two, older'),
      // The same instant spelt twice is a tie: the later one wins.
      version(3, '2026-01-09T00:00:00+02:00', 'first of a tie'),
      version(3, '2026-01-08T22:00:00.000Z', 'second of a tie'),
    ]);
    expect(r).toMatchObject({ received: 6, inserted: 3, updated: 0, unchanged: 3, stale: 0 });
    const rows = await rowsOf('instants');
    expect(rows.get(cdmIdOf(1))!.summary).toBe('utc, newer');
    expect(rows.get(cdmIdOf(2))!.summary).toBe('utc, newer');
    expect(rows.get(cdmIdOf(3))!.summary).toBe('second of a tie');
  });

  it('never lets a later batch of the same call overwrite a newer row an earlier batch wrote', async () => {
    await sink('across');
    const writer = writerFor('across', { batchRows: 2 });
    await writer.write('cdm.work.item', [version(1, '2026-01-05T00:00:00Z', 'v5')]);
    const r = await writer.write('cdm.work.item', [
      version(1, '2026-01-09T00:00:00Z', 'v9'),
      workItemRow(2),
      // Second batch: v1 and v3 collapse to v3, which is older than the v9 the first batch stored.
      version(1, '2026-01-01T00:00:00Z', 'v1'),
      version(1, '2026-01-03T00:00:00Z', 'v3'),
      workItemRow(3),
    ]);
    expect(r).toMatchObject({ received: 5, inserted: 2, updated: 1, unchanged: 1, stale: 1 });
    expect(balanced(r)).toBe(true);
    expect((await rowsOf('across')).get(cdmIdOf(1))!.summary).toBe('v9');
  });

  it('ranks a null updated_at below any timestamp, in one batch and across batches; between nulls the later wins', async () => {
    await provisionTables(db.pool, { schema: 'nulls', tablePrefix: 'cdm_', sinkId: 'ns/nulls' }, [project]);
    const projects = async () => {
      const { rows } = await db.pool.query('SELECT cdm_id, name FROM nulls.cdm_work_project');
      return new Map(rows.map((p) => [p.cdm_id as string, p.name as string]));
    };
    const input = (first: number) => [
      projectRow(first, '2026-01-09T00:00:00Z', 'dated, then null'),
      projectRow(first, null, 'null after a date'),
      projectRow(first + 1, null, 'null, then dated'),
      projectRow(first + 1, '2026-01-01T00:00:00Z', 'dated after a null'),
      projectRow(first + 2, null, 'first null'),
      projectRow(first + 2, null, 'second null'),
    ];
    const expected = (first: number): [string, string][] => [
      [projectIdOf(first), 'dated, then null'],
      [projectIdOf(first + 1), 'dated after a null'],
      [projectIdOf(first + 2), 'second null'],
    ];

    const oneBatch = await writerFor('nulls').write('cdm.work.project', input(1));
    expect(oneBatch).toMatchObject({ received: 6, inserted: 3, updated: 0, unchanged: 3, stale: 0 });
    // One row per batch: the same outcome through the stored-row guard.
    const rowByRow = await writerFor('nulls', { batchRows: 1 }).write('cdm.work.project', input(4));
    expect(rowByRow).toMatchObject({ received: 6, inserted: 3, updated: 2, unchanged: 0, stale: 1 });
    expect(await projects()).toEqual(new Map([...expected(1), ...expected(4)]));
  });

  it("orders versions the same way in the upsert's own guard, which covers rows changed after the lookup", async () => {
    await provisionTables(db.pool, { schema: 'guard', tablePrefix: 'cdm_', sinkId: 'ns/guard' }, [project]);
    const target = compileModelTarget(project, 'guard', 'cdm_');
    // Straight to the statement, past the lookup, as when a concurrent writer got there in between.
    const upsert = async (rows: readonly CdmWorkProjectRow[]) => {
      const lines = new LineBuffer();
      const encoded = rows.map((row, i) => {
        const prepared = target.prepare(row, i, lines);
        if ('errors' in prepared) throw new Error(JSON.stringify(prepared.errors));
        return prepared;
      });
      const params = upsertParams(encoded, target.statements.columns.length);
      return (await db.pool.query(target.statements.upsert, params)).rowCount;
    };
    const names = async () => {
      const { rows } = await db.pool.query('SELECT cdm_id, name FROM guard.cdm_work_project ORDER BY cdm_id');
      return rows.map((p) => p.name as string);
    };
    const stored = [projectRow(1, '2026-01-09T00:00:00Z', 'nine'), projectRow(2, null, 'none')];
    expect(await upsert(stored)).toBe(2);
    const swapped = [projectRow(1, null, 'none after nine'), projectRow(2, '2026-01-01T00:00:00Z', 'one')];
    expect(await upsert(swapped)).toBe(1);
    expect(await names()).toEqual(['nine', 'one']);
    expect(await upsert([projectRow(1, '2026-01-09T01:00:00+02:00', 'older, by its instant')])).toBe(0);
    expect(await upsert([projectRow(1, '2026-01-09T02:00:00+02:00', 'same instant')])).toBe(1);
    expect(await names()).toEqual(['same instant', 'one']);
  });

  it('stores identical rows through COPY and through the upsert, including text that breaks naive encoders', async () => {
    await sink('via_copy');
    await sink('via_upsert');
    const nasty: CdmWorkItemRow = {
      ...workItemRow(1),
      summary: 'tab\there, newline\nthere, CR\r, backslash C:\\new\\table, \\N, "quotes", {braces}, 🚀',
      description: '\\\\ double backslash and a trailing backslash \\',
      labels: ['NULL', '', 'a,b', '"q"', '{x}', 'back\\slash', 'tab\tlabel'],
      properties: {
        'key with "quotes"': 'line\nbreak',
        nested: { arr: [1, 'two', null, true, { deep: '\\' }] },
      },
      story_points: '1.50',
      original_estimate_seconds: '9007199254740993',
    };
    const input = [nasty, ...Array.from({ length: 30 }, (_, n) => workItemRow(n + 2))];
    await writerFor('via_copy', { insertVia: 'copy' }).write('cdm.work.item', input);
    await writerFor('via_upsert', { insertVia: 'upsert' }).write('cdm.work.item', input);
    const checksum = async (schema: string) => {
      const { rows } = await db.pool.query(
        `SELECT md5(string_agg(row_to_json(x)::text, E'\\n' ORDER BY cdm_id)) AS sum
         FROM (SELECT * FROM ${schema}.cdm_work_item) x`,
      );
      return rows[0].sum as string;
    };
    // synced_at differs between the two writes, so compare everything else.
    await db.pool.query(
      'UPDATE via_copy.cdm_work_item SET synced_at = $1; UPDATE via_upsert.cdm_work_item SET synced_at = $1'.replaceAll(
        '$1',
        "'2024-01-01Z'",
      ),
    );
    expect(await checksum('via_copy')).toBe(await checksum('via_upsert'));
    const stored = (await rowsOf('via_copy')).get(cdmIdOf(1))!;
    expect(stored.summary).toBe(nasty.summary);
    expect(stored.description).toBe(nasty.description);
    expect(stored.labels).toEqual(nasty.labels);
    expect(stored.properties).toEqual(nasty.properties);
    expect(stored.original_estimate_seconds).toBe('9007199254740993');
  });
});

describe('acceptance: 100k rows', () => {
  it('writes 100k rows, re-writes them without a single new tuple, then updates exactly the 10% that changed', async () => {
    await sink('big');
    const n = 100_000;
    const first = await writeAndSettleStats('big', workItemRows(n));
    expect(first.result).toMatchObject({ received: n, inserted: n, updated: 0, unchanged: 0, stale: 0 });
    expect(first.after.n_tup_ins - first.before.n_tup_ins).toBe(n);
    const { rows: count } = await db.pool.query('SELECT count(*)::int AS n FROM big.cdm_work_item');
    expect(count[0].n).toBe(n);

    const again = await writeAndSettleStats('big', workItemRows(n));
    expect(again.result).toMatchObject({ received: n, inserted: 0, updated: 0, unchanged: n, stale: 0 });
    expect(again.after.n_tup_upd).toBe(again.before.n_tup_upd);
    expect(again.after.n_tup_hot_upd).toBe(again.before.n_tup_hot_upd);
    expect(again.after.n_tup_ins).toBe(again.before.n_tup_ins);
    expect(again.after.n_dead_tup).toBeLessThanOrEqual(again.before.n_dead_tup);

    const changed = await writeAndSettleStats('big', workItemRows(n, { changedEvery: 10 }));
    expect(changed.result).toMatchObject({
      received: n,
      inserted: 0,
      updated: n / 10,
      unchanged: n - n / 10,
      stale: 0,
    });
    expect(changed.after.n_tup_upd - changed.before.n_tup_upd).toBe(n / 10);
    const { rows: versions } = await db.pool.query(
      `SELECT count(*) FILTER (WHERE summary LIKE '%(v1)')::int AS changed,
              count(*) FILTER (WHERE summary LIKE '%(v1)' AND substring(cdm_id from '[0-9]+$')::int % 10 <> 0)::int AS wrong
       FROM big.cdm_work_item`,
    );
    expect(versions[0]).toEqual({ changed: n / 10, wrong: 0 });
  }, 300_000);
});

describe('concurrency', () => {
  it('a key inserted by a concurrent transaction between lookup and COPY is replayed as an upsert (23505 → conflict)', async () => {
    await sink('conflict');
    const other = await db.pool.connect();
    const retries: RetryEvent[] = [];
    const pool = new pg.Pool({ connectionString: db.url, max: 1, application_name: 'writer-conflict-test' });
    try {
      // Uncommitted: invisible to the writer's lookup, but its COPY of the same key must wait for it.
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO conflict.cdm_work_item (cdm_id, project_cdm_id, issue_type, status, status_category, summary, created_at, updated_at)
         VALUES ($1, 'p', 'Bug', 'Open', 'todo', 'inserted concurrently', '2020-01-01Z', '2020-01-01Z')`,
        [cdmIdOf(3)],
      );
      const writer = new CdmSinkWriter({ pool, schema: 'conflict', onRetry: (e) => retries.push(e) });
      const writing = writer.write('cdm.work.item', workItemRows(10));
      for (let i = 0; i < 100; i++) {
        const { rows } = await db.pool.query(
          "SELECT 1 FROM pg_stat_activity WHERE application_name = 'writer-conflict-test' AND wait_event_type = 'Lock'",
        );
        if (rows.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await other.query('COMMIT');
      const r = await writing;
      expect(r).toMatchObject({ received: 10, inserted: 9, updated: 1, unchanged: 0, stale: 0 });
      expect(retries.map((e) => [e.kind, e.code])).toEqual([['conflict', '23505']]);
      expect((await rowsOf('conflict')).get(cdmIdOf(3))!.summary).toBe(workItemRow(3).summary);
    } finally {
      other.release();
      await pool.end();
    }
  });

  it("counts a row the upsert's guard kept as stale when a newer version landed after the lookup, unchanged when the same one did", async () => {
    await sink('guard_counts');
    const writer = writerFor('guard_counts');
    await writer.write('cdm.work.item', workItemRows(4));
    const { lookupName } = compileModelTarget(item, 'guard_counts', 'cdm_').statements;
    let interleaved = false;
    const hooked = writerFor('guard_counts', {
      pool: hookPool(db.pool, {
        // Between this writer's lookup and its upsert, another writer stores row 0 at a newer version
        // and row 1 exactly as this writer is about to send it.
        afterNamed: async (name) => {
          if (name !== lookupName || interleaved) return;
          interleaved = true;
          await writer.write('cdm.work.item', [
            workItemRow(0, { version: 2 }),
            workItemRow(1, { version: 1 }),
          ]);
        },
      }),
    });
    const r = await hooked.write('cdm.work.item', workItemRows(4, { version: 1 }));
    expect(interleaved).toBe(true);
    expect(r).toMatchObject({ received: 4, inserted: 0, updated: 2, unchanged: 1, stale: 1 });
    const rows = await rowsOf('guard_counts');
    expect(rows.get(cdmIdOf(0))!.summary).toMatch(/\(v2\)$/);
    for (const n of [1, 2, 3]) expect(rows.get(cdmIdOf(n))!.summary).toMatch(/\(v1\)$/);
  });

  it('two writers upserting overlapping keys in opposite orders neither deadlock nor lose the newest version', async () => {
    await sink('race');
    const retries: RetryEvent[] = [];
    const onRetry = (e: RetryEvent) => retries.push(e);
    const a = writerFor('race', { batchRows: 250, onRetry });
    const b = writerFor('race', { batchRows: 250, onRetry });
    const n = 4000;
    async function* descending(version: number) {
      for (let i = n - 1; i >= 0; i--) yield workItemRow(i, { version: i % 2 === 0 ? version : 0 });
    }
    const [ra, rb] = await Promise.all([
      a.write('cdm.work.item', workItemRows(n, { version: 0 })),
      b.write('cdm.work.item', descending(1)),
    ]);
    expect(balanced(ra) && balanced(rb)).toBe(true);
    expect(retries.filter((r) => r.code === '40P01')).toEqual([]);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n,
              count(*) FILTER (WHERE summary LIKE '%(v1)')::int AS newest
       FROM race.cdm_work_item`,
    );
    // Every even row was delivered as version 1 by one writer; it must win whatever the timing.
    expect(rows[0]).toEqual({ n, newest: n / 2 });
  }, 120_000);
});
