import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CdmSinkProvision } from '../../src/api/types.js';
import { createPoolProvider, finalize, type ReconcileDeps, reconcile } from '../../src/reconcile/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

type SpecOverrides = Omit<Partial<CdmSinkProvision['spec']>, 'endpoint'> & {
  endpoint?: Partial<CdmSinkProvision['spec']['endpoint']>;
};

function provision(name: string, spec: SpecOverrides = {}): CdmSinkProvision {
  const { endpoint, ...rest } = spec;
  return {
    apiVersion: 'cdm.nucleus.io/v1alpha1',
    kind: 'CdmSinkProvision',
    metadata: { name, namespace: 'team', generation: 1 },
    spec: {
      endpoint: {
        templateId: 'cdm.jdbc',
        connection: { secretRef: { name: 's', key: 'url' } },
        schema: 'cdm_work',
        tablePrefix: 'cdm_',
        ...endpoint,
      },
      models: ['cdm.work.project', 'cdm.work.item'],
      ...rest,
    } as CdmSinkProvision['spec'],
  };
}

const condition = (status: CdmSinkProvision['status'], type: string) =>
  status?.conditions?.find((c) => c.type === type);

describe('reconcile core (real Postgres)', () => {
  let db: TestDatabase;
  let deps: ReconcileDeps;
  let clock = new Date('2026-01-01T00:00:00Z');
  const pools = createPoolProvider();
  beforeAll(async () => {
    db = await createTestDatabase('rec');
    deps = { resolveDatabaseUrl: async () => db.url, pools, now: () => clock };
  });
  afterAll(async () => {
    await pools.end();
    await db.drop();
  });
  beforeEach(async () => {
    await db.pool.query('DROP SCHEMA IF EXISTS cdm_work CASCADE; DROP SCHEMA IF EXISTS catalog CASCADE');
  });

  it('keeps lastTransitionTime and the whole status stable across no-op reconciles', async () => {
    const first = await reconcile(provision('a'), deps);
    expect(first.ready).toBe(true);
    clock = new Date('2026-01-01T01:00:00Z');
    const second = await reconcile({ ...provision('a'), status: first.status }, deps);
    expect(second.statementsApplied).toBe(0);
    expect(second.status).toEqual(first.status);
    expect(condition(second.status, 'Ready')?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });

  it('gives a second provision claiming the same tables ConflictingOwner and touches nothing', async () => {
    expect((await reconcile(provision('owner'), deps)).ready).toBe(true);
    const before = await db.pool.query("SELECT obj_description('cdm_work.cdm_work_item'::regclass) AS c");
    const intruder = await reconcile(
      provision('intruder', { models: ['cdm.work.item', 'cdm.work.user'] }),
      deps,
    );
    expect(intruder.ready).toBe(false);
    expect(intruder.error?.reason).toBe('ConflictingOwner');
    expect(condition(intruder.status, 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'ConflictingOwner',
    });
    expect(intruder.status.tables?.find((t) => t.model === 'cdm.work.item')?.state).toBe('Conflict');
    // Not even the user table it could have created alone.
    const tables = await db.pool.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'cdm_work' ORDER BY 1",
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(['cdm_work_item', 'cdm_work_project']);
    const after = await db.pool.query("SELECT obj_description('cdm_work.cdm_work_item'::regclass) AS c");
    expect(after.rows).toEqual(before.rows);
    const catalog = await db.pool.query(
      "SELECT count(*)::int AS n FROM catalog.dataset WHERE sink_endpoint_id = 'team/intruder'",
    );
    expect(catalog.rows[0].n).toBe(0);
  });

  it('re-creates a dropped table with drift: Correct and reports it as Drifted with drift: Report', async () => {
    await reconcile(provision('d'), deps);
    await db.pool.query('DROP TABLE cdm_work.cdm_work_project');
    const corrected = await reconcile(provision('d'), deps);
    expect(corrected.ready).toBe(true);
    expect(corrected.events).toContainEqual(
      expect.objectContaining({ reason: 'Drifted', message: expect.stringContaining('re-created') }),
    );

    await db.pool.query('DROP TABLE cdm_work.cdm_work_project');
    const reported = await reconcile(
      provision('d', { policy: { drift: 'Report', lockTimeout: '5s', adopt: false } }),
      deps,
    );
    expect(reported.ready).toBe(false);
    expect(condition(reported.status, 'Ready')).toMatchObject({ status: 'False', reason: 'Drifted' });
    expect(reported.status.tables?.find((t) => t.model === 'cdm.work.project')?.state).toBe('Pending');
    const exists = await db.pool.query("SELECT to_regclass('cdm_work.cdm_work_project') AS t");
    expect(exists.rows[0].t).toBeNull();
  });

  it('raises schema_version only when the structure changes, and revives deleted datasets', async () => {
    await reconcile(provision('v'), deps);
    const read = () =>
      db.pool.query(
        "SELECT dataset_id, schema_version, status, updated_at FROM catalog.dataset WHERE sink_endpoint_id = 'team/v' ORDER BY 1",
      );
    const before = (await read()).rows;
    await reconcile(
      provision('v', { catalog: { register: true, domain: 'cdm.work', labels: { team: 'x' } } }),
      deps,
    );
    const relabelled = (await read()).rows;
    expect(relabelled.map((r) => r.schema_version)).toEqual([1, 1]);
    expect(relabelled[0].updated_at.getTime()).toBeGreaterThan(before[0].updated_at.getTime());

    const done = await finalize(provision('v'), deps);
    expect(done.done).toBe(true);
    expect((await read()).rows.map((r) => r.status)).toEqual(['deleted', 'deleted']);
    await reconcile(provision('v'), deps);
    expect((await read()).rows.map((r) => [r.status, r.schema_version])).toEqual([
      ['active', 1],
      ['active', 1],
    ]);
  });

  it('finalize with Retain keeps the tables; with Delete drops only the tables this provision owns', async () => {
    await reconcile(provision('keep'), deps);
    await reconcile(provision('other', { endpoint: { tablePrefix: 'other_' } }), deps);
    const retained = await finalize(provision('keep'), deps);
    expect(retained.done).toBe(true);
    expect(
      (await db.pool.query("SELECT to_regclass('cdm_work.cdm_work_item') AS t")).rows[0].t,
    ).not.toBeNull();

    const dropped = await finalize(provision('keep', { deletionPolicy: 'Delete' }), deps);
    expect(dropped.done).toBe(true);
    const tables = await db.pool.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'cdm_work' ORDER BY 1",
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(['other_work_item', 'other_work_project']);
  });

  it('keeps the finalizer when finalize cannot reach the database', async () => {
    const down = { ...deps, resolveDatabaseUrl: async () => 'postgres://u:p4ssw0rd-x@127.0.0.1:1/db' };
    const result = await finalize(provision('gone', { deletionPolicy: 'Delete' }), down);
    expect(result.done).toBe(false);
    expect(result.error?.reason).toBe('ConnectionFailed');
    expect(JSON.stringify(result)).not.toContain('p4ssw0rd-x');
  });

  it('refuses a column type change a new model version asks for: DestructiveChangeBlocked, nothing altered', async () => {
    const { WORK_PROJECT } = await import('../../src/models/work-project.js');
    const { createModelRegistry, CDM_WORK_MODELS } = await import('../../src/models/index.js');
    await reconcile(provision('b'), deps);
    const v2 = {
      ...WORK_PROJECT,
      version: '2.0.0',
      fields: WORK_PROJECT.fields.map((f) =>
        f.name === 'is_private' ? { ...f, type: 'string' as const } : f,
      ),
    };
    const registry = createModelRegistry(CDM_WORK_MODELS.map((m) => (m.id === v2.id ? v2 : m)));
    const outcome = await reconcile(provision('b'), { ...deps, registry });
    expect(condition(outcome.status, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'DestructiveChangeBlocked',
    });
    expect(condition(outcome.status, 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'DestructiveChangeBlocked',
    });
    const type = await db.pool.query(
      "SELECT data_type FROM information_schema.columns WHERE table_name = 'cdm_work_project' AND column_name = 'is_private'",
    );
    expect(type.rows[0].data_type).toBe('boolean');
  });

  it('runs no DDL and reports Suspended while suspended', async () => {
    const outcome = await reconcile(provision('s', { suspend: true }), deps);
    expect(condition(outcome.status, 'Ready')).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(condition(outcome.status, 'Stalled')?.status).toBe('False');
    expect((await db.pool.query("SELECT to_regnamespace('cdm_work') AS s")).rows[0].s).toBeNull();
  });
});
