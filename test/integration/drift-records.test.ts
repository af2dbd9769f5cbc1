import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPoolProvider, type ReconcileDeps, reconcile } from '../../src/reconcile/index.js';
import { createTestDatabase, installDdlAudit, type TestDatabase } from '../support/database.js';
import { condition, provisionFixture } from '../support/provision-fixture.js';

/** Drift found and corrected from the database's own records, not only from the catalog. */
describe('drift (real Postgres)', () => {
  let db: TestDatabase;
  let deps: ReconcileDeps;
  const pools = createPoolProvider();
  const endpoint = { schema: 'drift', tablePrefix: 'cdm_' };
  const models = ['cdm.work.project', 'cdm.work.item'];

  beforeAll(async () => {
    db = await createTestDatabase('drift');
    deps = { resolveDatabaseUrl: async () => db.url, pools, now: () => new Date('2026-01-01T00:00:00Z') };
  });
  afterAll(async () => {
    await pools.end();
    await db.drop();
  });
  beforeEach(async () => {
    await db.pool.query(
      'DROP EVENT TRIGGER IF EXISTS test_audit_ddl; DROP SCHEMA IF EXISTS drift CASCADE; DROP SCHEMA IF EXISTS catalog CASCADE',
    );
  });
  const checks = async () =>
    (
      await db.pool.query(
        "SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'drift.cdm_work_item'::regclass AND contype = 'c'",
      )
    ).rows;

  it('re-creates a dropped CHECK with drift: Correct (NOT VALID, then validated) and becomes Ready', async () => {
    expect((await reconcile(provisionFixture('c', { endpoint, models }), deps)).ready).toBe(true);
    await db.pool.query(
      'ALTER TABLE drift.cdm_work_item DROP CONSTRAINT cdm_work_item_status_category_check',
    );
    const corrected = await reconcile(provisionFixture('c', { endpoint, models }), deps);
    expect(corrected.error).toBeUndefined();
    expect(corrected.ready).toBe(true);
    expect(corrected.plan?.steps.map((s) => [s.kind, s.hazards])).toEqual([
      ['addCheck', ['ACQUIRES_ACCESS_EXCLUSIVE_LOCK']],
      ['validateCheck', ['VALIDATES_EXISTING_ROWS']],
    ]);
    expect(await checks()).toEqual([{ conname: 'cdm_work_item_status_category_check', convalidated: true }]);
    const again = await reconcile(provisionFixture('c', { endpoint, models }), deps);
    expect(again.statementsApplied).toBe(0);
  });

  it('with drift: Report and catalog.register: false, reports a dropped table instead of re-creating it', async () => {
    const spec = { endpoint, models, catalog: { register: false }, policy: { drift: 'Report' as const } };
    expect((await reconcile(provisionFixture('r', spec), deps)).ready).toBe(true);
    await db.pool.query('DROP TABLE drift.cdm_work_item');
    const audit = await installDdlAudit(db.pool);
    // No status carried over either (a CLI run): the sibling table's ownership line is the record.
    const reported = await reconcile(provisionFixture('r', spec), deps);
    expect(reported.ready).toBe(false);
    expect(condition(reported, 'Ready')).toMatchObject({ status: 'False', reason: 'Drifted' });
    expect(condition(reported, 'Ready')?.message).toContain(
      'table drift.cdm_work_item was provisioned before and is missing',
    );
    expect(await audit.commands()).toEqual([]);
    expect(reported.status.tables?.find((t) => t.model === 'cdm.work.item')?.state).toBe('Pending');
  });

  it('in Report mode marks the dataset of a table that is gone deleted, and keeps reporting it as drift', async () => {
    const spec = { endpoint, models, policy: { drift: 'Report' as const } };
    expect((await reconcile(provisionFixture('k', spec), deps)).ready).toBe(true);
    await db.pool.query('DROP TABLE drift.cdm_work_item');
    for (let i = 0; i < 2; i += 1) {
      const reported = await reconcile(provisionFixture('k', spec), deps);
      expect(condition(reported, 'Ready')?.reason).toBe('Drifted');
      expect(reported.status.datasets?.find((d) => d.model === 'cdm.work.item')).toMatchObject({
        registered: false,
        message: expect.stringContaining('drift.cdm_work_item is missing'),
      });
      const rows = await db.pool.query('SELECT dataset_id, status FROM catalog.dataset ORDER BY 1');
      expect(rows.rows).toEqual([
        { dataset_id: 'cdm.work.item@team/k', status: 'deleted' },
        { dataset_id: 'cdm.work.project@team/k', status: 'active' },
      ]);
    }
    // Back to Correct: re-created and registered again.
    const fixed = await reconcile(provisionFixture('k', { endpoint, models }), deps);
    expect(fixed.ready).toBe(true);
    const rows = await db.pool.query(
      "SELECT count(*)::int AS n FROM catalog.dataset WHERE status = 'active'",
    );
    expect(rows.rows[0].n).toBe(2);
  });
});
