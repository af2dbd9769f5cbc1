import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CdmSinkProvision } from '../../src/api/types.js';
import { CatalogStore, datasetRecord } from '../../src/catalog/index.js';
import { CDM_WORK_MODELS } from '../../src/models/index.js';
import { SCHEMA_LOCK_SQL } from '../../src/postgres/advisory-lock.js';
import { desiredTable, parseTableOwner } from '../../src/postgres/index.js';
import {
  createPoolProvider,
  type PoolProvider,
  type ReconcileDeps,
  type ReconcileOutcome,
  reconcile,
} from '../../src/reconcile/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { condition, provisionFixture } from '../support/provision-fixture.js';

/** DESIGN.md §3: status comes from what was observed under the lock, and a conflict found at any point blocks readiness and registration. */
describe('concurrent reconciles (real Postgres)', () => {
  let db: TestDatabase;
  const providers: PoolProvider[] = [createPoolProvider(), createPoolProvider({ max: 2 })];
  const depsFor = (pools: PoolProvider): ReconcileDeps => ({
    resolveDatabaseUrl: async () => db.url,
    pools,
    now: () => new Date('2026-01-01T00:00:00Z'),
  });

  beforeAll(async () => {
    db = await createTestDatabase('race');
  });
  afterAll(async () => {
    await Promise.all(providers.map((p) => p.end()));
    await db.drop();
  });
  beforeEach(async () => {
    await db.pool.query('DROP SCHEMA IF EXISTS race CASCADE; DROP SCHEMA IF EXISTS catalog CASCADE');
  });

  /** Holds the schema's advisory lock until `release`, so every reconcile started meanwhile plans before any of them applies. */
  async function holdSchemaLock(schema: string) {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(SCHEMA_LOCK_SQL, [schema]);
    return {
      release: async () => {
        await client.end();
      },
    };
  }

  async function waitForLockWaiters(count: number) {
    for (let i = 0; i < 200; i += 1) {
      const { rows } = await db.pool.query(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
      );
      if (rows[0].n >= count) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`fewer than ${count} reconciles waited for the schema lock`);
  }

  const endpoint = { schema: 'race', tablePrefix: 'cdm_' };

  it('reports Ready, from the state under the lock, for the reconcile that waited and found everything done', async () => {
    const lock = await holdSchemaLock('race');
    const p = provisionFixture('a', { endpoint, models: ['cdm.work.project', 'cdm.work.item'] });
    const runs = [reconcile(p, depsFor(providers[0]!)), reconcile(p, depsFor(providers[1]!))];
    await waitForLockWaiters(2);
    await lock.release();
    const outcomes = await Promise.all(runs);
    expect(outcomes.map((o) => o.statementsApplied).sort((x, y) => x - y)[0]).toBe(0);
    for (const outcome of outcomes) {
      expect(outcome.error).toBeUndefined();
      expect(condition(outcome, 'Ready')).toMatchObject({ status: 'True', reason: 'Provisioned' });
      expect(condition(outcome, 'Stalled')?.status).toBe('False');
      expect(outcome.status.tables?.map((t) => t.state)).toEqual(['Ready', 'Ready']);
    }
  });

  it('blocks readiness and registration of the sink that finds, under the lock, that another sink took its table', async () => {
    const lock = await holdSchemaLock('race');
    const a = provisionFixture('team-a', { endpoint, models: ['cdm.work.project'] });
    const b = provisionFixture('team-b', { endpoint, models: ['cdm.work.project'] });
    const runs = [reconcile(a, depsFor(providers[0]!)), reconcile(b, depsFor(providers[1]!))];
    await waitForLockWaiters(2);
    await lock.release();
    const outcomes = await Promise.all(runs);
    const winner = outcomes.filter((o) => o.ready);
    const loser = outcomes.filter((o) => !o.ready);
    expect(winner).toHaveLength(1);
    expect(loser).toHaveLength(1);
    expect(loser[0]!.error?.reason).toBe('ConflictingOwner');
    expect(condition(loser[0]!, 'Stalled')).toMatchObject({ status: 'True', reason: 'ConflictingOwner' });
    expect(loser[0]!.status.tables?.[0]?.state).toBe('Conflict');
    const active = await db.pool.query(
      "SELECT physical_location, count(*)::int AS n FROM catalog.dataset WHERE status = 'active' GROUP BY 1",
    );
    expect(active.rows).toEqual([{ physical_location: 'race.cdm_work_project', n: 1 }]);
  });

  it('retires the dataset of a sink whose table was dropped and re-created by another sink', async () => {
    const a = provisionFixture('team-a', { endpoint, models: ['cdm.work.project'] });
    const b = provisionFixture('team-b', { endpoint, models: ['cdm.work.project'] });
    expect((await reconcile(a, depsFor(providers[0]!))).ready).toBe(true);
    await db.pool.query('DROP TABLE race.cdm_work_project');
    expect((await reconcile(b, depsFor(providers[1]!))).ready).toBe(true);
    const rows = await db.pool.query('SELECT dataset_id, status FROM catalog.dataset ORDER BY 1');
    expect(rows.rows).toEqual([
      { dataset_id: 'cdm.work.project@team/team-a', status: 'deleted' },
      { dataset_id: 'cdm.work.project@team/team-b', status: 'active' },
    ]);
    expect((await reconcile(a, depsFor(providers[0]!))).error?.reason).toBe('ConflictingOwner');
  });

  it('creates the catalog table once when first registrations race', async () => {
    const table = desiredTable(CDM_WORK_MODELS[0]!, { schema: 'race', tablePrefix: 'cdm_', sinkId: 'x/y' });
    for (let round = 0; round < 8; round += 1) {
      const schema = `catalog_race_${round}`;
      const stores = Array.from(
        { length: 4 },
        (_, i) => new CatalogStore(providers[i % 2]!.get(db.url), schema),
      );
      const results = await Promise.allSettled(
        stores.map((store, i) =>
          store.register(
            [
              datasetRecord(
                CDM_WORK_MODELS[0]!,
                { ...table, sinkId: `ns/s${i}` },
                { host: 'h', port: 5432, database: 'd' },
                { domain: 'cdm.work' },
              ),
            ],
            [],
          ),
        ),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      await db.pool.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });

  /** What the database says, compared with what each outcome claimed. */
  async function checkTruth(provisions: readonly CdmSinkProvision[], outcomes: readonly ReconcileOutcome[]) {
    const { rows: tables } = await db.pool.query<{ name: string; comment: string | null }>(
      `SELECT c.relname AS name, obj_description(c.oid, 'pg_class') AS comment FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'race' AND c.relkind = 'r'`,
    );
    const owners = new Map(tables.map((t) => [t.name, parseTableOwner(t.comment)?.sinkId]));
    outcomes.forEach((outcome, i) => {
      const p = provisions[i]!;
      const sinkId = `${p.metadata.namespace}/${p.metadata.name}`;
      const names = p.spec.models.map(
        (m) => `${p.spec.endpoint.tablePrefix}${m.slice(4).replaceAll('.', '_')}`,
      );
      const allOurs = names.every((n) => owners.get(n) === sinkId);
      const foreign = names.some((n) => owners.has(n) && owners.get(n) !== sinkId);
      const where = `${sinkId} (${condition(outcome, 'Ready')?.reason}: ${condition(outcome, 'Ready')?.message})`;
      if (outcome.ready) expect(allOurs, `Ready with a missing or foreign table: ${where}`).toBe(true);
      if (condition(outcome, 'Stalled')?.status === 'True') {
        expect(outcome.error?.reason, where).toBe('ConflictingOwner');
        expect(foreign, `Stalled without a conflicting table: ${where}`).toBe(true);
      } else {
        expect(outcome.error, where).toBeUndefined();
      }
      if (allOurs) expect(outcome.ready, `not Ready although everything exists: ${where}`).toBe(true);
    });
    const duplicates = await db.pool.query(
      "SELECT physical_location FROM catalog.dataset WHERE status = 'active' GROUP BY 1 HAVING count(*) > 1",
    );
    expect(duplicates.rows).toEqual([]);
    const invalid = await db.pool.query(
      "SELECT indexrelid::regclass::text AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'race' AND NOT (i.indisvalid AND i.indisready)",
    );
    expect(invalid.rows).toEqual([]);
  }

  it('keeps every status true to the database over 20 rounds of 2–4 overlapping reconcilers', async () => {
    const candidates = [
      provisionFixture('p1', { endpoint, models: ['cdm.work.project', 'cdm.work.item'] }),
      provisionFixture('p2', { endpoint, models: ['cdm.work.item', 'cdm.work.user'] }),
      provisionFixture('p3', { endpoint: { schema: 'race', tablePrefix: 'x_' } }),
      provisionFixture('p4', {
        endpoint: { schema: 'race', tablePrefix: 'x_' },
        models: ['cdm.work.comment'],
      }),
    ];
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const statuses = new Map<string, CdmSinkProvision['status']>();
    for (let round = 0; round < 20; round += 1) {
      // A fresh start is a fresh cluster for the controller too.
      if (round % 3 !== 2) statuses.clear();
      // Every third round starts from what the last left behind (steady state and drift), the rest from scratch.
      if (round % 3 !== 2)
        await db.pool.query('DROP SCHEMA IF EXISTS race CASCADE; DROP SCHEMA IF EXISTS catalog CASCADE');
      else await db.pool.query('DROP TABLE IF EXISTS race.x_work_comment');
      const count = 2 + Math.floor(random() * 3);
      const chosen = Array.from(
        { length: count },
        () => candidates[Math.floor(random() * candidates.length)]!,
      );
      const outcomes = await Promise.all(
        chosen.map(async (p, i) => {
          await new Promise((r) => setTimeout(r, Math.floor(random() * 40)));
          if (i % 2 === 1) {
            // CLI-style: a pool of its own for the run, no status from before.
            const own = createPoolProvider();
            try {
              return await reconcile(p, depsFor(own));
            } finally {
              await own.end();
            }
          }
          // Controller-style: the shared pools, and the provision as the informer has it, last status included.
          const key = p.metadata.name;
          const outcome = await reconcile({ ...p, status: statuses.get(key) }, depsFor(providers[0]!));
          statuses.set(key, outcome.status);
          return outcome;
        }),
      );
      await checkTruth(chosen, outcomes);
    }
  });
});
