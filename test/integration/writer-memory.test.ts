import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRegistry } from '../../src/models/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { provisionTables } from '../support/provision.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('writer_memory');
  await provisionTables(db.pool, { schema: 'cdm_work', tablePrefix: 'cdm_', sinkId: 'ns/mem' }, [
    defaultRegistry.get('cdm.work.user'),
  ]);
});
afterAll(async () => {
  await db.drop();
});

const root = path.resolve(import.meta.dirname, '../..');

describe('bounded memory', () => {
  it('writes a 2-million-row async generator with peak RSS under 250 MB (measured in a child process)', async () => {
    const rows = 2_000_000;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'bench/writer/memory-probe.ts')],
      {
        cwd: root,
        env: {
          ...process.env,
          PROBE_DATABASE_URL: db.url,
          PROBE_ROWS: String(rows),
          PROBE_MODEL: 'cdm.work.user',
        },
        maxBuffer: 1 << 20,
      },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      peakRssMb: number;
      seconds: number;
      result: { received: number; inserted: number };
    };
    expect(report.result).toMatchObject({ received: rows, inserted: rows });
    expect(report.peakRssMb).toBeLessThan(250);
    const { rows: count } = await db.pool.query('SELECT count(*)::int AS n FROM cdm_work.cdm_work_user');
    expect(count[0].n).toBe(rows);
  }, 600_000);
});
