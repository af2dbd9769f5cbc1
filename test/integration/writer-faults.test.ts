import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workItemRow, workItemRows } from '../../bench/writer/rows.js';
import { defaultRegistry } from '../../src/models/index.js';
import { BatchWriteError, CdmSinkWriter, type RetryEvent, type WriteResult } from '../../src/writer/index.js';
import { normalizeTimestamp } from '../../src/writer/timestamps.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { provisionTables } from '../support/provision.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('writer_faults');
  await provisionTables(db.pool, { schema: 'faults', tablePrefix: 'cdm_', sinkId: 'ns/faults' }, [
    defaultRegistry.get('cdm.work.item'),
  ]);
});
afterAll(async () => {
  await db.drop();
});

/** md5 over the columns that matter, one line per row in cdm_id (byte) order: the input side. */
function inputChecksum(count: number): string {
  const lines: string[] = [];
  for (let n = 0; n < count; n++) {
    const r = workItemRow(n);
    const line = [
      r.cdm_id,
      r.summary,
      r.description ?? '',
      r.labels.join(','),
      normalizeTimestamp(r.updated_at),
    ];
    lines.push([...line, r.properties.team].join('|'));
  }
  lines.sort();
  return createHash('md5').update(lines.join('\n'), 'utf8').digest('hex');
}

/** The same checksum computed by Postgres over what the table holds. */
async function tableChecksum(): Promise<string> {
  const { rows } = await db.pool.query(`
    SELECT md5(string_agg(
             cdm_id || '|' || summary || '|' || coalesce(description, '') || '|' || array_to_string(labels, ',') || '|' ||
             to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '|' || (properties->>'team'),
             E'\\n' ORDER BY cdm_id COLLATE "C")) AS sum
    FROM faults.cdm_work_item`);
  return rows[0].sum;
}

describe('connection killed mid-write', () => {
  it('retries on a fresh connection (or fails clearly), and a re-run leaves exactly the input in the table', async () => {
    const n = 60_000;
    const applicationName = 'writer-fault-test';
    const pool = new pg.Pool({ connectionString: db.url, max: 2, application_name: applicationName });
    pool.on('error', () => {});
    const retries: RetryEvent[] = [];
    const writer = new CdmSinkWriter({
      pool,
      schema: 'faults',
      retry: { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 200 },
      onRetry: (e) => retries.push(e),
    });
    const running = writer.write('cdm.work.item', workItemRows(n)).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );

    let killed = 0;
    for (let attempt = 0; attempt < 200 && killed < 3; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      const { rows } = await db.pool.query(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
         WHERE application_name = $1 AND state = 'active' AND pid <> pg_backend_pid()`,
        [applicationName],
      );
      killed += rows.filter((r) => r.ok).length;
      if (killed > 0) await new Promise((resolve) => setTimeout(resolve, 400));
    }
    expect(killed).toBeGreaterThan(0);

    const outcome = (await running) as { result?: WriteResult; error?: unknown };
    if (outcome.error) {
      // Allowed: a clear, typed failure that says a re-run is safe.
      expect(outcome.error).toBeInstanceOf(BatchWriteError);
      expect((outcome.error as BatchWriteError).retryable).toBe(true);
      expect((outcome.error as BatchWriteError).message).toContain('re-running it is safe');
    } else {
      expect(outcome.result!.received).toBe(n);
      expect(retries.length).toBeGreaterThan(0);
      expect(retries.every((r) => r.kind === 'transient')).toBe(true);
    }

    const rerun = await writer.write('cdm.work.item', workItemRows(n));
    expect(rerun.received).toBe(n);
    expect(rerun.inserted + rerun.unchanged + rerun.updated).toBe(n);
    await pool.end();

    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM faults.cdm_work_item');
    expect(rows[0].n).toBe(n);
    expect(await tableChecksum()).toBe(inputChecksum(n));
  }, 180_000);
});
