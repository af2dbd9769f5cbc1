import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workItemRows } from '../../bench/writer/rows.js';
import { defaultRegistry } from '../../src/models/index.js';
import {
  CdmSinkWriter,
  InvalidEndpointError,
  NotProvisionedError,
  UnsupportedModelError,
} from '../../src/writer/index.js';
import { createTestDatabase, installDdlAudit, type TestDatabase } from '../support/database.js';
import { provisionTables } from '../support/provision.js';

let db: TestDatabase;
let audit: Awaited<ReturnType<typeof installDdlAudit>>;

beforeAll(async () => {
  db = await createTestDatabase('writer_prov');
  audit = await installDdlAudit(db.pool);
});
afterAll(async () => {
  await db.drop();
});

const item = defaultRegistry.get('cdm.work.item');
const user = defaultRegistry.get('cdm.work.user');

describe('assertProvisioned and write against missing tables', () => {
  it('a never-provisioned sink gives NotProvisionedError naming each table and how to fix it, and runs no DDL', async () => {
    await audit.reset();
    const writer = new CdmSinkWriter({ pool: db.pool, schema: 'never_made' });
    const error = await writer.assertProvisioned(['cdm.work.item', 'cdm.work.user']).catch((e) => e);
    expect(error).toBeInstanceOf(NotProvisionedError);
    expect((error as NotProvisionedError).missing).toEqual([
      'never_made.cdm_work_item',
      'never_made.cdm_work_user',
    ]);
    expect(error.message).toContain(
      '`kubectl apply` the CdmSinkProvision for this sink, or run `cdm-sink apply -f <manifest>`',
    );

    const writeError = await writer.write('cdm.work.item', workItemRows(10)).catch((e) => e);
    expect(writeError).toBeInstanceOf(NotProvisionedError);
    expect(await audit.commands()).toEqual([]);
    const { rows } = await db.pool.query("SELECT 1 FROM pg_namespace WHERE nspname = 'never_made'");
    expect(rows).toHaveLength(0);
  });

  it('lists exactly the missing or mistyped columns as table.column', async () => {
    await provisionTables(db.pool, { schema: 'partial', tablePrefix: 'cdm_', sinkId: 'ns/p' }, [item, user]);
    await db.pool.query(`
      ALTER TABLE partial.cdm_work_item DROP COLUMN labels, DROP COLUMN _row_hash;
      ALTER TABLE partial.cdm_work_item ALTER COLUMN story_points TYPE text;`);
    await audit.reset();
    const writer = new CdmSinkWriter({ pool: db.pool, schema: 'partial' });
    const error = (await writer
      .assertProvisioned(['cdm.work.item', 'cdm.work.user'])
      .catch((e) => e)) as NotProvisionedError;
    expect(error).toBeInstanceOf(NotProvisionedError);
    expect(error.problems.map((p) => `${p.object}: ${p.problem}`)).toEqual([
      'partial.cdm_work_item.labels: missing column',
      'partial.cdm_work_item.story_points: type is text, expected numeric',
      'partial.cdm_work_item._row_hash: missing column',
    ]);
    expect(await audit.commands()).toEqual([]);
  });

  it('passes for a provisioned sink with one read-only query', async () => {
    await provisionTables(db.pool, { schema: 'ready', tablePrefix: 'cdm_', sinkId: 'ns/r' }, [item, user]);
    const writer = new CdmSinkWriter({
      pool: db.pool,
      schema: 'ready',
      models: ['cdm.work.item', 'cdm.work.user'],
    });
    await expect(writer.assertProvisioned()).resolves.toBeUndefined();
  });
});

describe('models the endpoint does not allow', () => {
  it('write and assertProvisioned refuse models outside parameters.models or the template, naming what is allowed', async () => {
    await provisionTables(db.pool, { schema: 'limited', tablePrefix: 'cdm_', sinkId: 'ns/l' }, [item, user]);
    const writer = CdmSinkWriter.fromEndpoint(
      { templateId: 'cdm.jdbc', parameters: { schema: 'limited', models: ['cdm.work.item'] } },
      { pool: db.pool },
    );
    const notEnabled = await writer.write('cdm.work.user', []).catch((e) => e);
    expect(notEnabled).toBeInstanceOf(UnsupportedModelError);
    expect(notEnabled.message).toBe(
      "model 'cdm.work.user' is not enabled for this endpoint (parameters.models); this writer accepts: cdm.work.item",
    );
    // @ts-expect-error not a CdmModelId: only a JavaScript caller gets this far, and meets the run-time check
    const unknown = await writer.assertProvisioned(['cdm.crm.deal']).catch((e) => e);
    expect(unknown).toBeInstanceOf(UnsupportedModelError);
    expect(unknown.message).toContain("model 'cdm.crm.deal' is not supported by template cdm.jdbc");
    const r = await writer.write('cdm.work.item', workItemRows(3));
    expect(r.inserted).toBe(3);
  });

  it('raw-mode endpoints are refused before any connection is made', () => {
    expect(() =>
      CdmSinkWriter.fromEndpoint(
        { templateId: 'cdm.jdbc', mode: 'raw', parameters: { schema: 'x' } },
        { pool: db.pool },
      ),
    ).toThrow(InvalidEndpointError);
  });
});

describe('DDL', () => {
  it('the writer never issues DDL: zero DDL commands after assertProvisioned and several writes', async () => {
    await provisionTables(db.pool, { schema: 'audited', tablePrefix: 'cdm_', sinkId: 'ns/a' }, [item, user]);
    // The witness works: it saw the fixture's CREATE statements.
    expect(await audit.commands()).toContain('CREATE TABLE');
    await audit.reset();
    const writer = CdmSinkWriter.fromEndpoint(
      { templateId: 'cdm.jdbc', parameters: { schema: 'audited' } },
      { pool: db.pool, batchRows: 500 },
    );
    await writer.assertProvisioned(['cdm.work.item', 'cdm.work.user']);
    await writer.write('cdm.work.item', workItemRows(2000));
    await writer.write('cdm.work.item', workItemRows(2000));
    await writer.write('cdm.work.item', workItemRows(2000, { changedEvery: 3 }));
    await writer.write('cdm.work.item', workItemRows(2000, { start: 1000 }), { onInvalidRow: 'skip' });
    await writer.write('cdm.work.user', [
      { cdm_id: 'u1', source_user_id: '1', created_at: '2024-01-01T00:00:00Z' },
    ]);
    expect(await audit.commands()).toEqual([]);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM audited.cdm_work_item');
    expect(rows[0].n).toBe(3000);
  });
});
