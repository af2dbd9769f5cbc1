import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OperatorError } from '../../src/errors/index.js';
import { SCHEMA_LOCK_SQL } from '../../src/postgres/advisory-lock.js';
import { createPoolProvider, finalize, type ReconcileDeps, reconcile } from '../../src/reconcile/index.js';
import { createTestDatabase, installDdlAudit, type TestDatabase } from '../support/database.js';
import { condition, provisionFixture } from '../support/provision-fixture.js';

/** DESIGN.md §3 deletion: never hangs silently, never drops while suspended, decides under the lock. */
describe('finalize (real Postgres)', () => {
  let db: TestDatabase;
  let catalogDb: TestDatabase;
  let deps: ReconcileDeps;
  const pools = createPoolProvider();
  const endpoint = { schema: 'fin', tablePrefix: 'cdm_' };
  const models = ['cdm.work.project'];
  const secretGone: ReconcileDeps['resolveDatabaseUrl'] = async () => {
    throw new OperatorError(
      'SecretNotFound',
      'Secret team/s not found; create it with key "url" (a postgresql:// URL)',
      false,
    );
  };

  beforeAll(async () => {
    db = await createTestDatabase('fin');
    catalogDb = await createTestDatabase('fincat');
    deps = { resolveDatabaseUrl: async () => db.url, pools, now: () => new Date('2026-01-01T00:00:00Z') };
  });
  afterAll(async () => {
    await pools.end();
    await db.drop();
    await catalogDb.drop();
  });
  beforeEach(async () => {
    await db.pool.query(
      'DROP EVENT TRIGGER IF EXISTS test_audit_ddl; DROP SCHEMA IF EXISTS fin CASCADE; DROP SCHEMA IF EXISTS catalog CASCADE',
    );
    await catalogDb.pool.query('DROP SCHEMA IF EXISTS catalog CASCADE');
  });
  const tables = async () =>
    (
      await db.pool.query<{ t: string }>(
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'fin' ORDER BY 1",
      )
    ).rows.map((r) => r.t);

  it('with Retain, lets go without the Secret and marks the datasets through a separate catalog', async () => {
    const withCatalog = { ...deps, catalogUrl: catalogDb.url };
    expect((await reconcile(provisionFixture('r', { endpoint, models }), withCatalog)).ready).toBe(true);
    const done = await finalize(provisionFixture('r', { endpoint, models }), {
      ...withCatalog,
      resolveDatabaseUrl: secretGone,
    });
    expect(done.done).toBe(true);
    expect(done.events[0]?.message).toMatch(
      /kept the tables \(deletionPolicy: Retain\) without connecting to the sink .*marked 1 dataset\(s\) deleted/,
    );
    const rows = await catalogDb.pool.query('SELECT status FROM catalog.dataset');
    expect(rows.rows).toEqual([{ status: 'deleted' }]);
    expect(await tables()).toEqual(['cdm_work_project']);
  });

  it('with Retain and the catalog in the sink database, lets go and says the datasets could not be marked', async () => {
    expect((await reconcile(provisionFixture('r', { endpoint, models }), deps)).ready).toBe(true);
    const done = await finalize(provisionFixture('r', { endpoint, models }), {
      ...deps,
      resolveDatabaseUrl: secretGone,
    });
    expect(done.done).toBe(true);
    expect(done.events).toEqual([
      expect.objectContaining({
        type: 'Warning',
        reason: 'Deleting',
        message: expect.stringMatching(/could not be marked deleted.*sink_endpoint_id = 'team\/r'/),
      }),
    ]);
  });

  it('with Delete and no Secret, keeps the finalizer and says exactly how to unblock', async () => {
    expect((await reconcile(provisionFixture('d', { endpoint, models }), deps)).ready).toBe(true);
    const blocked = await finalize(provisionFixture('d', { endpoint, models, deletionPolicy: 'Delete' }), {
      ...deps,
      resolveDatabaseUrl: secretGone,
    });
    expect(blocked.done).toBe(false);
    expect(blocked.error).toBeUndefined();
    expect(blocked.action).toEqual({ kind: 'requeue', afterMs: 60_000 });
    expect(condition(blocked, 'Ready')).toMatchObject({ status: 'False', reason: 'Deleting' });
    expect(condition(blocked, 'Stalled')).toMatchObject({ status: 'True', reason: 'Deleting' });
    const message = condition(blocked, 'Ready')?.message ?? '';
    expect(message).toContain('Secret team/s not found');
    expect(message).toContain('restore (or fix) the Secret, or set spec.deletionPolicy: Retain');
    expect(blocked.events).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'Deleting', message }),
    ]);
    expect(await tables()).toEqual(['cdm_work_project']);
  });

  it('runs no DDL at all while suspended, deletion included, and says so', async () => {
    expect((await reconcile(provisionFixture('s', { endpoint, models }), deps)).ready).toBe(true);
    const audit = await installDdlAudit(db.pool);
    const held = await finalize(
      provisionFixture('s', { endpoint, models, deletionPolicy: 'Delete', suspend: true }),
      deps,
    );
    expect(held.done).toBe(false);
    expect(condition(held, 'Ready')).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(condition(held, 'Ready')?.message).toMatch(
      /spec\.suspend is true: no DDL runs, so the tables are not dropped/,
    );
    expect(await audit.commands()).toEqual([]);
    expect(await tables()).toEqual(['cdm_work_project']);
  });

  it('waits a bounded time for the schema lock and decides what to drop from what it sees under it', async () => {
    expect((await reconcile(provisionFixture('l', { endpoint, models }), deps)).ready).toBe(true);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query(SCHEMA_LOCK_SQL, ['fin']);
    try {
      const started = performance.now();
      const timedOut = await finalize(provisionFixture('l', { endpoint, models, deletionPolicy: 'Delete' }), {
        ...deps,
        advisoryLockTimeoutMs: 300,
      });
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(timedOut.done).toBe(false);
      expect(timedOut.error?.reason).toBe('LockTimeout');
      expect(condition(timedOut, 'Ready')?.message).toMatch(/another applier holds schema fin/);

      // A table of this sink that appears while finalize waits is dropped too.
      const waiting = finalize(provisionFixture('l', { endpoint, models, deletionPolicy: 'Delete' }), deps);
      await new Promise((r) => setTimeout(r, 300));
      const comment = (await db.pool.query("SELECT obj_description('fin.cdm_work_project'::regclass) AS c"))
        .rows[0].c as string;
      await db.pool.query(
        `CREATE TABLE fin.cdm_work_late (cdm_id text PRIMARY KEY); COMMENT ON TABLE fin.cdm_work_late IS '${comment.replace('model=cdm.work.project', 'model=cdm.work.late')}'`,
      );
      await holder.query('SELECT pg_advisory_unlock_all()');
      const done = await waiting;
      expect(done.done).toBe(true);
      expect(await tables()).toEqual([]);
    } finally {
      await holder.end();
    }
  });

  it('emits "re-created (drift: Correct)" only when the re-creation happened', async () => {
    expect((await reconcile(provisionFixture('e', { endpoint, models }), deps)).ready).toBe(true);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await db.pool.query('ALTER TABLE fin.cdm_work_project DROP COLUMN category');
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE fin.cdm_work_project IN ACCESS SHARE MODE');
    try {
      const failed = await reconcile(
        provisionFixture('e', { endpoint, models, policy: { lockTimeout: '200ms' } }),
        deps,
      );
      expect(failed.error?.reason).toBe('LockTimeout');
      expect(failed.events.filter((e) => /re-created/.test(e.message))).toEqual([]);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    const fixed = await reconcile(provisionFixture('e', { endpoint, models }), deps);
    expect(fixed.ready).toBe(true);
    expect(
      fixed.events.filter((e) => /re-created \(drift: Correct\)/.test(e.message)).length,
    ).toBeGreaterThan(0);
  });
});
