import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createPoolProvider,
  type PoolProvider,
  type ReconcileDeps,
  reconcile,
} from '../../src/reconcile/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { condition, provisionFixture } from '../support/provision-fixture.js';

/** Fault injection against a real Postgres: lost connections, locks, old snapshots, odd URLs. */
describe('database faults (real Postgres)', () => {
  let db: TestDatabase;
  let pools: PoolProvider;
  let deps: ReconcileDeps;
  const endpoint = { schema: 'faults', tablePrefix: 'cdm_' };
  const items = (extra: Parameters<typeof provisionFixture>[1] = {}) =>
    provisionFixture('f', { endpoint, models: ['cdm.work.item'], ...extra });

  beforeAll(async () => {
    db = await createTestDatabase('faults');
    pools = createPoolProvider({ lockTimeoutMs: 500 });
    deps = { resolveDatabaseUrl: async () => db.url, pools, now: () => new Date('2026-01-01T00:00:00Z') };
  });
  afterAll(async () => {
    await pools.end();
    await db.drop();
  });
  beforeEach(async () => {
    await db.pool.query('DROP SCHEMA IF EXISTS faults CASCADE; DROP SCHEMA IF EXISTS catalog CASCADE');
  });

  async function withRows(count: number) {
    expect((await reconcile(items(), deps)).ready).toBe(true);
    await db.pool.query(
      `INSERT INTO faults.cdm_work_item (cdm_id, project_cdm_id, issue_type, status, status_category, summary, labels, created_at, updated_at)
       SELECT 'jira:x:item:' || g, 'p' || (g % 50), 'Bug', 'Open', 'todo', 'summary ' || g, ARRAY['a', 'b' || (g % 7)], now(), now() - g * interval '1 minute'
       FROM generate_series(1, $1) g`,
      [count],
    );
  }
  const invalidIndexes = async () =>
    (
      await db.pool.query(
        "SELECT indexrelid::regclass::text AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'faults' AND NOT (i.indisvalid AND i.indisready)",
      )
    ).rows;

  /** A REPEATABLE READ transaction on an unrelated table: an old snapshot, no lock on our table. */
  async function oldSnapshot() {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query('CREATE TABLE IF NOT EXISTS public.unrelated (id int)');
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await client.query('SELECT count(*) FROM public.unrelated');
    const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    return { client, pid };
  }

  it('lets a concurrent index build wait past policy.lockTimeout for an old snapshot, and finishes it', async () => {
    await withRows(2_000);
    await db.pool.query('DROP INDEX faults.cdm_work_item_updated_idx');
    const blocker = await oldSnapshot();
    const running = reconcile(items({ policy: { lockTimeout: '500ms' } }), deps);
    // Longer than three 500 ms lock waits and their backoff: a lock-timeout policy would have given up.
    await new Promise((r) => setTimeout(r, 4_000));
    await blocker.client.query('COMMIT');
    await blocker.client.end();
    const outcome = await running;
    expect(outcome.error).toBeUndefined();
    expect(outcome.ready).toBe(true);
    expect(await invalidIndexes()).toEqual([]);
  });

  it('gives up an index build at its statement timeout, names what it waits for, leaves no invalid index and does not retry', async () => {
    await withRows(2_000);
    await db.pool.query('DROP INDEX faults.cdm_work_item_updated_idx');
    const blocker = await oldSnapshot();
    try {
      const started = performance.now();
      const outcome = await reconcile(items(), { ...deps, indexBuildTimeoutMs: 1_000 });
      const elapsed = performance.now() - started;
      expect(outcome.error?.reason).toBe('QueryCanceled');
      expect(outcome.error?.retryable).toBe(true);
      expect(condition(outcome, 'Stalled')?.status).toBe('False');
      const message = condition(outcome, 'Ready')?.message ?? '';
      expect(message).toContain('create index cdm_work_item_updated_idx');
      expect(message).toContain('waits for every transaction of the database that started before it');
      expect(message).toContain(`pid ${blocker.pid} (idle in transaction`);
      expect(message).not.toMatch(/conflicting lock/);
      expect(message).toContain('the invalid index it left was dropped');
      // One attempt: a statement timeout is not retried inside the reconcile.
      expect(elapsed).toBeLessThan(2_900);
      expect(await invalidIndexes()).toEqual([]);
      expect(outcome.status.tables?.[0]?.state).toBe('Failed');
    } finally {
      await blocker.client.query('ROLLBACK');
      await blocker.client.end();
    }
    expect((await reconcile(items(), deps)).ready).toBe(true);
  });

  it('bounds observation behind an ACCESS EXCLUSIVE lock and names the table and the session holding it', async () => {
    expect((await reconcile(items(), deps)).ready).toBe(true);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    const pid = (await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE faults.cdm_work_item IN ACCESS EXCLUSIVE MODE');
    try {
      for (const mode of ['apply', 'plan'] as const) {
        const started = performance.now();
        const outcome = await reconcile(items(), deps, { mode });
        expect(performance.now() - started).toBeLessThan(5_000);
        expect(outcome.error?.reason).toBe('LockTimeout');
        expect(condition(outcome, 'Stalled')?.status).toBe('False');
        const message = condition(outcome, 'Ready')?.message ?? '';
        expect(message).toContain('faults.cdm_work_item');
        expect(message).toContain(`pid ${pid} (idle in transaction`);
      }
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  }, 30_000);

  it('survives backends terminated at random points of reconciles: ConnectionFailed, never a crash', async () => {
    await withRows(20_000);
    const reasons = new Set<string>();
    let seed = 11;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let trial = 0; trial < 20; trial += 1) {
      await db.pool.query(`
        DROP INDEX IF EXISTS faults.cdm_work_item_updated_idx, faults.cdm_work_item_labels_gin, faults.cdm_work_item_synced_idx;
        ALTER TABLE faults.cdm_work_item DROP COLUMN IF EXISTS resolution`);
      const running = reconcile(items(), deps);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 150)));
      await db.pool.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cdm-sink-operator'",
      );
      const outcome = await running;
      reasons.add(outcome.error?.reason ?? 'none');
      if (outcome.error) {
        expect(outcome.error.reason).toBe('ConnectionFailed');
        expect(condition(outcome, 'Stalled')?.status).toBe('False');
      }
    }
    expect(reasons.has('ConnectionFailed')).toBe(true);
    // The faults stop once the terminated sessions are gone: until then a pooled connection may still be
    // handed out just before its termination arrives (a busy machine made that happen in CI).
    await expect
      .poll(
        async () =>
          (
            await db.pool.query(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cdm-sink-operator'",
            )
          ).rows[0].n,
      )
      .toBe(0);
    const healed = await reconcile(items(), deps);
    expect(healed.error).toBeUndefined();
    expect(healed.ready).toBe(true);
    expect(await invalidIndexes()).toEqual([]);
  }, 120_000);

  it('accepts every URL form node-postgres accepts, and never prints the password of one it cannot parse', async () => {
    const parsed = new URL(db.url);
    const socketStyle = `postgres://${parsed.username}:${parsed.password}@/${db.name}?host=${parsed.hostname}&port=${parsed.port}`;
    const ok = await reconcile(items(), { ...deps, resolveDatabaseUrl: async () => socketStyle });
    expect(ok.error).toBeUndefined();
    expect(ok.ready).toBe(true);
    expect(condition(ok, 'SinkConnected')?.message).toBe(
      `connected to ${parsed.hostname}:${parsed.port}/${db.name}`,
    );

    const secret = 'Pa55-w0rd-never-shown';
    const broken = `postgres://app:${secret}@db.example:notaport/x`;
    const outcome = await reconcile(items(), { ...deps, resolveDatabaseUrl: async () => broken });
    expect(outcome.error?.reason).toBe('InvalidConnection');
    expect(condition(outcome, 'Stalled')?.status).toBe('True');
    expect(JSON.stringify(outcome)).not.toContain(secret);
    expect(JSON.stringify(outcome.status)).not.toContain('db.example');
  });

  it('reports an exhausted pool of its own as PoolExhausted, and a refused TLS setting as InvalidConnection', async () => {
    const small = createPoolProvider({ max: 1, connectionTimeoutMs: 300 });
    const held = await small.get(db.url).connect();
    try {
      const busy = await reconcile(items(), { ...deps, pools: small });
      expect(busy.error?.reason).toBe('PoolExhausted');
      expect(condition(busy, 'Stalled')?.status).toBe('False');
    } finally {
      held.release();
      await small.end();
    }
    const tls = await reconcile(items(), {
      ...deps,
      resolveDatabaseUrl: async () => `${db.url}?sslmode=require`,
    });
    expect(tls.error?.reason).toBe('InvalidConnection');
    expect(condition(tls, 'Stalled')?.status).toBe('True');
  });
});
