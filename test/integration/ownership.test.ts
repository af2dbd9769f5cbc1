import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPoolProvider, finalize, type ReconcileDeps, reconcile } from '../../src/reconcile/index.js';
import { createTestDatabase, installDdlAudit, type TestDatabase } from '../support/database.js';
import { condition, provisionFixture } from '../support/provision-fixture.js';

/**
 * DESIGN.md §3 ownership: a table we did not create is never touched unless adopted, adoption takes only
 * compatible tables and is recorded, and deletion drops only what we created.
 */
describe('ownership and adoption (real Postgres)', () => {
  let db: TestDatabase;
  let deps: ReconcileDeps;
  const pools = createPoolProvider();
  const models = ['cdm.work.project', 'cdm.work.item'];
  const endpoint = { schema: 'adopt', tablePrefix: 'cdm_' };

  beforeAll(async () => {
    db = await createTestDatabase('own');
    deps = { resolveDatabaseUrl: async () => db.url, pools, now: () => new Date('2026-01-01T00:00:00Z') };
  });
  afterAll(async () => {
    await pools.end();
    await db.drop();
  });
  beforeEach(async () => {
    await db.pool.query(`
      DROP EVENT TRIGGER IF EXISTS test_audit_ddl;
      DROP SCHEMA IF EXISTS adopt CASCADE; DROP SCHEMA IF EXISTS catalog CASCADE; DROP SCHEMA IF EXISTS test_audit CASCADE;
      CREATE SCHEMA adopt;`);
  });

  const comment = async (table: string) =>
    (await db.pool.query<{ c: string | null }>(`SELECT obj_description('adopt.${table}'::regclass) AS c`))
      .rows[0]!.c;
  const tables = async () =>
    (
      await db.pool.query<{ t: string }>(
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'adopt' ORDER BY 1",
      )
    ).rows.map((r) => r.t);

  it('never touches, nor drops, a user table at the target name (the reviewed reproduction)', async () => {
    await db.pool.query(`
      CREATE TABLE adopt.cdm_work_item (id int PRIMARY KEY, payload text);
      INSERT INTO adopt.cdm_work_item VALUES (1, 'the user''s row');`);
    const audit = await installDdlAudit(db.pool);
    for (const drift of ['Report', 'Correct'] as const) {
      const outcome = await reconcile(
        provisionFixture('a', { endpoint, models, policy: { drift }, deletionPolicy: 'Delete' }),
        deps,
      );
      expect(outcome.ready).toBe(false);
      expect(outcome.statementsApplied).toBe(0);
      expect(outcome.error?.reason).toBe('UnmanagedTableExists');
      expect(condition(outcome, 'Ready')).toMatchObject({ status: 'False', reason: 'UnmanagedTableExists' });
      expect(condition(outcome, 'Stalled')).toMatchObject({ status: 'True', reason: 'UnmanagedTableExists' });
      expect(condition(outcome, 'Ready')?.message).toMatch(/policy\.adopt: true/);
      expect(outcome.status.tables?.find((t) => t.model === 'cdm.work.item')).toMatchObject({
        table: 'adopt.cdm_work_item',
        state: 'Conflict',
      });
    }
    // Not one statement, not even for the project table that had no conflict.
    expect(await audit.commands()).toEqual([]);
    const done = await finalize(provisionFixture('a', { endpoint, models, deletionPolicy: 'Delete' }), deps);
    expect(done.done).toBe(true);
    expect(await audit.commands()).toEqual([]);
    expect((await db.pool.query('SELECT id, payload FROM adopt.cdm_work_item')).rows).toEqual([
      { id: 1, payload: "the user's row" },
    ]);
    expect(await comment('cdm_work_item')).toBeNull();
  });

  it('adopts a compatible table with additive changes only, records it, and releases it on Delete', async () => {
    await db.pool.query(`
      CREATE TABLE adopt.cdm_work_item (
        cdm_id text PRIMARY KEY, project_cdm_id text NOT NULL, issue_type text NOT NULL, status text NOT NULL,
        status_category text NOT NULL, summary text NOT NULL, created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL, team_notes text);
      COMMENT ON TABLE adopt.cdm_work_item IS 'the team''s items';
      COMMENT ON COLUMN adopt.cdm_work_item.summary IS 'their words';
      INSERT INTO adopt.cdm_work_item (cdm_id, project_cdm_id, issue_type, status, status_category, summary, created_at, updated_at)
      VALUES ('jira:x:item:1', 'p', 'Bug', 'Open', 'todo', 'kept', now(), now());`);
    const adopted = await reconcile(
      provisionFixture('a', { endpoint, models, policy: { adopt: true }, deletionPolicy: 'Delete' }),
      deps,
    );
    expect(adopted.error).toBeUndefined();
    expect(adopted.ready).toBe(true);
    expect(
      adopted.plan?.steps.every((s) =>
        ['createTable', 'addColumn', 'addCheck', 'validateCheck', 'createIndex', 'comment'].includes(s.kind),
      ),
    ).toBe(true);
    expect(await comment('cdm_work_item')).toMatch(
      /^the team's items\n\nManaged by cdm-sink-operator: model=cdm\.work\.item version=\S+ sink=team\/a origin=adopted tables=cdm_work_item,cdm_work_project$/,
    );
    expect(await comment('cdm_work_project')).toMatch(/origin=created/);
    const summary = await db.pool.query(
      "SELECT col_description(attrelid, attnum) AS c FROM pg_attribute WHERE attrelid = 'adopt.cdm_work_item'::regclass AND attname = 'summary'",
    );
    expect(summary.rows[0].c).toBe('their words');
    // A second reconcile has nothing left to do.
    const again = await reconcile(
      provisionFixture('a', { endpoint, models, policy: { adopt: true }, deletionPolicy: 'Delete' }),
      deps,
    );
    expect(again.statementsApplied).toBe(0);
    expect(again.ready).toBe(true);

    const done = await finalize(provisionFixture('a', { endpoint, models, deletionPolicy: 'Delete' }), deps);
    expect(done.done).toBe(true);
    expect(condition(done, 'Ready')?.message).toMatch(
      /dropped 1 table\(s\) it created: adopt\.cdm_work_project; released 1 adopted table\(s\), kept: adopt\.cdm_work_item/,
    );
    expect(await tables()).toEqual(['cdm_work_item']);
    expect(await comment('cdm_work_item')).toBe("the team's items");
    expect((await db.pool.query('SELECT summary, team_notes FROM adopt.cdm_work_item')).rows).toEqual([
      { summary: 'kept', team_notes: null },
    ]);
    const datasets = await db.pool.query('SELECT dataset_id, status FROM catalog.dataset ORDER BY 1');
    expect(datasets.rows).toEqual([
      { dataset_id: 'cdm.work.item@team/a', status: 'deleted' },
      { dataset_id: 'cdm.work.project@team/a', status: 'deleted' },
    ]);
  });

  it('refuses to adopt a table whose columns or key contradict the model, and touches nothing', async () => {
    await db.pool.query(`
      CREATE TABLE adopt.cdm_work_item (cdm_id int PRIMARY KEY, summary text NOT NULL, status text);`);
    const audit = await installDdlAudit(db.pool);
    const refused = await reconcile(
      provisionFixture('a', { endpoint, models, policy: { adopt: true } }),
      deps,
    );
    expect(refused.error?.reason).toBe('UnmanagedTableExists');
    expect(refused.status.tables?.find((t) => t.model === 'cdm.work.item')?.state).toBe('Conflict');
    const message = condition(refused, 'Ready')?.message ?? '';
    expect(message).toContain('cannot be adopted');
    expect(message).toContain('column cdm_id has type integer, the model wants text');
    expect(message).toContain('column status is nullable, the model wants NOT NULL');
    expect(await audit.commands()).toEqual([]);
    expect(await comment('cdm_work_item')).toBeNull();
  });

  it('counts a table with a first-release ownership line as created: it keeps working and Delete drops it', async () => {
    const first = await reconcile(provisionFixture('a', { endpoint, models: ['cdm.work.item'] }), deps);
    expect(first.ready).toBe(true);
    const current = (await comment('cdm_work_item'))!;
    const legacy = current.replace(/ origin=created tables=\S+$/, '');
    expect(legacy).not.toBe(current);
    await db.pool.query(`COMMENT ON TABLE adopt.cdm_work_item IS '${legacy.replaceAll("'", "''")}'`);
    const upgraded = await reconcile(provisionFixture('a', { endpoint, models: ['cdm.work.item'] }), deps);
    expect(upgraded.ready).toBe(true);
    expect(upgraded.plan?.steps.map((s) => s.kind)).toEqual(['comment']);
    expect(await comment('cdm_work_item')).toBe(current);
    await db.pool.query(`COMMENT ON TABLE adopt.cdm_work_item IS '${legacy.replaceAll("'", "''")}'`);
    const done = await finalize(
      provisionFixture('a', { endpoint, models: ['cdm.work.item'], deletionPolicy: 'Delete' }),
      deps,
    );
    expect(done.done).toBe(true);
    expect(await tables()).toEqual([]);
  });
});
