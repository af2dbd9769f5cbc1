import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CDM_WORK_MODELS, type ModelSpec } from '../../src/models/index.js';
import { WORK_ITEM } from '../../src/models/work-item.js';
import {
  type ApplyOptions,
  applyPlan,
  desiredSchema,
  observeSchema,
  type Plan,
  planSchema,
} from '../../src/postgres/index.js';
import { createTestDatabase, installDdlAudit, type TestDatabase } from '../support/database.js';

const LAYOUT = { schema: 'cdm_work', tablePrefix: 'cdm_', sinkId: 'data-platform/jira-cdm' };
const FAST: ApplyOptions = { lockTimeoutMs: 2_000, retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 } };

async function planFor(
  db: TestDatabase,
  models: readonly ModelSpec[] = CDM_WORK_MODELS,
  drift: 'Correct' | 'Report' = 'Correct',
): Promise<Plan> {
  const observed = await observeSchema(db.pool, LAYOUT.schema);
  return planSchema(desiredSchema(models, LAYOUT), observed, {
    drift,
    adopt: false,
    previouslyProvisioned: new Set(),
  });
}

async function converge(db: TestDatabase, models: readonly ModelSpec[] = CDM_WORK_MODELS) {
  const result = await applyPlan(db.pool, await planFor(db, models), FAST);
  expect(result.error).toBeUndefined();
  return result;
}

/** DESIGN.md §4 restated independently of src/models: column → [type as information_schema spells it, nullable, default]. */
const EXPECTED_ITEM_COLUMNS: Record<string, [string, 'YES' | 'NO', string | null]> = {
  cdm_id: ['text', 'NO', null],
  source_system: ['text', 'YES', null],
  source_instance: ['text', 'YES', null],
  source_issue_id: ['text', 'YES', null],
  source_issue_key: ['text', 'YES', null],
  project_cdm_id: ['text', 'NO', null],
  parent_cdm_id: ['text', 'YES', null],
  reporter_cdm_id: ['text', 'YES', null],
  assignee_cdm_id: ['text', 'YES', null],
  creator_cdm_id: ['text', 'YES', null],
  issue_type: ['text', 'NO', null],
  status: ['text', 'NO', null],
  status_category: ['text', 'NO', null],
  priority: ['text', 'YES', null],
  resolution: ['text', 'YES', null],
  summary: ['text', 'NO', null],
  description: ['text', 'YES', null],
  labels: ['ARRAY', 'NO', "'{}'::text[]"],
  components: ['ARRAY', 'NO', "'{}'::text[]"],
  fix_versions: ['ARRAY', 'NO', "'{}'::text[]"],
  due_date: ['date', 'YES', null],
  story_points: ['numeric', 'YES', null],
  original_estimate_seconds: ['bigint', 'YES', null],
  remaining_estimate_seconds: ['bigint', 'YES', null],
  time_spent_seconds: ['bigint', 'YES', null],
  url: ['text', 'YES', null],
  created_at: ['timestamp with time zone', 'NO', null],
  updated_at: ['timestamp with time zone', 'NO', null],
  closed_at: ['timestamp with time zone', 'YES', null],
  deleted_at: ['timestamp with time zone', 'YES', null],
  synced_at: ['timestamp with time zone', 'NO', 'now()'],
  properties: ['jsonb', 'NO', "'{}'::jsonb"],
  _row_hash: ['text', 'YES', null],
};

const EXPECTED_NOT_NULL: Record<string, string[]> = {
  cdm_work_project: ['cdm_id', 'name', 'properties', 'source_project_key', 'synced_at'],
  cdm_work_user: ['cdm_id', 'properties', 'source_user_id', 'synced_at'],
  cdm_work_comment: ['cdm_id', 'created_at', 'item_cdm_id', 'properties', 'synced_at', 'updated_at'],
  cdm_work_worklog: [
    'cdm_id',
    'created_at',
    'item_cdm_id',
    'properties',
    'started_at',
    'synced_at',
    'time_spent_seconds',
    'updated_at',
  ],
};

const EXPECTED_INDEXES: Record<string, string[]> = {
  cdm_work_project: ['cdm_work_project_key_idx', 'cdm_work_project_pkey', 'cdm_work_project_updated_idx'],
  cdm_work_user: ['cdm_work_user_email_idx', 'cdm_work_user_pkey', 'cdm_work_user_updated_idx'],
  cdm_work_item: [
    'cdm_work_item_assignee_open_idx',
    'cdm_work_item_key_idx',
    'cdm_work_item_labels_gin',
    'cdm_work_item_pkey',
    'cdm_work_item_project_status_idx',
    'cdm_work_item_project_updated_idx',
    'cdm_work_item_synced_idx',
    'cdm_work_item_updated_idx',
  ],
  cdm_work_comment: [
    'cdm_work_comment_author_idx',
    'cdm_work_comment_item_idx',
    'cdm_work_comment_pkey',
    'cdm_work_comment_updated_idx',
  ],
  cdm_work_worklog: [
    'cdm_work_worklog_author_started_idx',
    'cdm_work_worklog_item_idx',
    'cdm_work_worklog_pkey',
    'cdm_work_worklog_updated_idx',
  ],
};

describe('schema engine against a real Postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('engine');
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(async () => {
    await db.pool.query('DROP SCHEMA IF EXISTS cdm_work CASCADE');
  });

  it('creates exactly the tables, columns, keys, indexes and comments of DESIGN.md §4', async () => {
    await converge(db);
    const tables = await db.pool.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'cdm_work' ORDER BY 1",
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(Object.keys(EXPECTED_INDEXES).sort());

    const columns = await db.pool.query(
      `SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
       WHERE table_schema = 'cdm_work' AND table_name = 'cdm_work_item' ORDER BY ordinal_position`,
    );
    expect(
      Object.fromEntries(
        columns.rows.map((r) => [r.column_name, [r.data_type, r.is_nullable, r.column_default]]),
      ),
    ).toEqual(EXPECTED_ITEM_COLUMNS);
    const arrays = await db.pool.query(
      `SELECT column_name, udt_name FROM information_schema.columns
       WHERE table_schema = 'cdm_work' AND table_name = 'cdm_work_item' AND data_type = 'ARRAY' ORDER BY 1`,
    );
    expect(arrays.rows.every((r) => r.udt_name === '_text')).toBe(true);

    for (const [table, notNull] of Object.entries(EXPECTED_NOT_NULL)) {
      const { rows } = await db.pool.query(
        `SELECT column_name FROM information_schema.columns
         WHERE table_schema = 'cdm_work' AND table_name = $1 AND is_nullable = 'NO' ORDER BY 1`,
        [table],
      );
      expect(
        rows.map((r) => r.column_name),
        table,
      ).toEqual(notNull);
    }

    const pks = await db.pool.query(
      `SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc
       JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
       WHERE tc.table_schema = 'cdm_work' AND tc.constraint_type = 'PRIMARY KEY' ORDER BY 1`,
    );
    expect(pks.rows.every((r) => r.column_name === 'cdm_id')).toBe(true);
    expect(pks.rows).toHaveLength(5);

    const indexes = await db.pool.query(
      "SELECT tablename, indexname, indexdef FROM pg_catalog.pg_indexes WHERE schemaname = 'cdm_work' ORDER BY 1, 2",
    );
    const byTable: Record<string, string[]> = {};
    for (const r of indexes.rows) byTable[r.tablename] = [...(byTable[r.tablename] ?? []), r.indexname];
    expect(byTable).toEqual(EXPECTED_INDEXES);
    const defs = Object.fromEntries(indexes.rows.map((r) => [r.indexname, r.indexdef]));
    expect(defs.cdm_work_item_assignee_open_idx).toMatch(
      /USING btree \(assignee_cdm_id, updated_at DESC\) WHERE \(status_category <> 'done'::text\)/,
    );
    expect(defs.cdm_work_item_project_updated_idx).toMatch(
      /USING btree \(project_cdm_id, updated_at DESC\)$/,
    );
    expect(defs.cdm_work_user_email_idx).toMatch(
      /USING btree \(lower\(email\)\) WHERE \(email IS NOT NULL\)/,
    );
    expect(defs.cdm_work_item_labels_gin).toMatch(/USING gin \(labels\)/);

    const checks = await db.pool.query(
      `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_catalog.pg_constraint
       WHERE contype = 'c' AND connamespace = 'cdm_work'::regnamespace ORDER BY 1`,
    );
    expect(checks.rows.map((r) => r.conname)).toEqual([
      'cdm_work_item_status_category_check',
      'cdm_work_worklog_time_spent_seconds_check',
    ]);
    await expect(
      db.pool.query(
        `INSERT INTO cdm_work.cdm_work_item (cdm_id, project_cdm_id, issue_type, status, status_category, summary, created_at, updated_at)
         VALUES ('x', 'p', 'Bug', 'Open', 'closed', 's', now(), now())`,
      ),
    ).rejects.toThrow(/status_category_check/);

    const comments = await db.pool.query(
      `SELECT obj_description('cdm_work.cdm_work_item'::regclass, 'pg_class') AS t,
              col_description('cdm_work.cdm_work_item'::regclass, 1) AS c`,
    );
    expect(comments.rows[0].t).toContain('model=cdm.work.item version=1.0.0 sink=data-platform/jira-cdm');
    expect(comments.rows[0].c).toMatch(/Deterministic CDM id/);
  });

  it('is idempotent: the next plan is empty and a replayed apply runs zero DDL', async () => {
    const firstPlan = await planFor(db);
    expect((await applyPlan(db.pool, firstPlan, FAST)).error).toBeUndefined();
    expect((await planFor(db)).steps).toEqual([]);

    const audit = await installDdlAudit(db.pool);
    await audit.reset();
    // Replaying the stale plan: apply re-observes under its lock, finds nothing to do, and sends no DDL.
    const replay = await applyPlan(db.pool, firstPlan, FAST);
    expect(replay.error).toBeUndefined();
    expect(replay.statementsExecuted).toBe(0);
    const empty = await planFor(db);
    expect((await applyPlan(db.pool, empty, FAST)).statementsExecuted).toBe(0);
    expect(await audit.commands()).toEqual([]);
    await db.pool.query('DROP EVENT TRIGGER test_audit_ddl');
  });

  it('re-adds exactly a dropped column and index, and only reports type and nullability drift', async () => {
    await converge(db);
    await db.pool.query('ALTER TABLE cdm_work.cdm_work_item DROP COLUMN resolution');
    await db.pool.query('DROP INDEX cdm_work.cdm_work_comment_author_idx');
    await db.pool.query('ALTER TABLE cdm_work.cdm_work_user ALTER COLUMN locale TYPE varchar(20)');
    await db.pool.query('ALTER TABLE cdm_work.cdm_work_item ALTER COLUMN summary DROP NOT NULL');

    const plan = await planFor(db);
    expect(plan.steps.map((s) => [s.kind, s.target])).toEqual([
      ['addColumn', 'cdm_work.cdm_work_item.resolution'],
      ['createIndex', 'cdm_work.cdm_work_comment_author_idx'],
    ]);
    expect(plan.steps[1]!.statements[0]!.sql).toMatch(/^CREATE INDEX CONCURRENTLY IF NOT EXISTS/);
    const drift = plan.findings.filter((f) => f.kind === 'typeMismatch' || f.kind === 'nullabilityMismatch');
    expect(drift).toEqual([
      expect.objectContaining({
        kind: 'typeMismatch',
        table: 'cdm_work.cdm_work_user',
        column: 'locale',
        expected: 'text',
        actual: 'character varying(20)',
      }),
      expect.objectContaining({
        kind: 'nullabilityMismatch',
        table: 'cdm_work.cdm_work_item',
        column: 'summary',
        expected: 'NOT NULL',
        actual: 'NULL',
      }),
    ]);
    expect((await applyPlan(db.pool, plan, FAST)).error).toBeUndefined();
    const after = await planFor(db);
    expect(after.steps).toEqual([]);
    const types = await db.pool.query(
      "SELECT data_type FROM information_schema.columns WHERE table_name = 'cdm_work_user' AND column_name = 'locale'",
    );
    expect(types.rows[0].data_type).toBe('character varying');
  });

  it('with drift: Report, reports what went missing from a provisioned table and changes nothing', async () => {
    await converge(db);
    await db.pool.query('DROP INDEX cdm_work.cdm_work_item_updated_idx');
    const observed = await observeSchema(db.pool, LAYOUT.schema);
    const plan = planSchema(desiredSchema(CDM_WORK_MODELS, LAYOUT), observed, {
      drift: 'Report',
      adopt: false,
      previouslyProvisioned: new Set(['cdm_work_item']),
    });
    expect(plan.steps).toEqual([]);
    expect(plan.findings).toEqual([
      expect.objectContaining({ kind: 'missingIndex', index: 'cdm_work_item_updated_idx', corrected: false }),
    ]);
  });

  it('turns a new model version with one more field into one ADD COLUMN and keeps the rows', async () => {
    await converge(db, [WORK_ITEM]);
    await db.pool.query(
      `INSERT INTO cdm_work.cdm_work_item (cdm_id, project_cdm_id, issue_type, status, status_category, summary, created_at, updated_at)
       VALUES ('jira:x:item:1', 'p', 'Bug', 'Open', 'todo', 'kept', now(), now())`,
    );
    const v11: ModelSpec = {
      ...WORK_ITEM,
      version: '1.1.0',
      fields: [
        ...WORK_ITEM.fields,
        { name: 'sprint_name', type: 'string', nullable: true, description: 'Current sprint.' },
      ],
    };
    const plan = await planFor(db, [v11]);
    const ddl = plan.steps
      .flatMap((s) => s.statements.map((st) => st.sql))
      .filter((sql) => !sql.startsWith('COMMENT'));
    expect(ddl).toEqual([
      'ALTER TABLE "cdm_work"."cdm_work_item" ADD COLUMN IF NOT EXISTS "sprint_name" text',
    ]);
    expect(plan.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect((await applyPlan(db.pool, plan, FAST)).error).toBeUndefined();
    const { rows } = await db.pool.query('SELECT summary, sprint_name FROM cdm_work.cdm_work_item');
    expect(rows).toEqual([{ summary: 'kept', sprint_name: null }]);
    expect((await planFor(db, [v11])).steps).toEqual([]);
  });

  it('lets two concurrent applies of the same plan both succeed with one result', async () => {
    const plan = await planFor(db);
    const [a, b] = await Promise.all([applyPlan(db.pool, plan, FAST), applyPlan(db.pool, plan, FAST)]);
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
    // One of them did the work; the other found it done under the lock.
    expect([a.statementsExecuted, b.statementsExecuted].sort((x, y) => x - y)[0]).toBe(0);
    expect((await planFor(db)).steps).toEqual([]);
  });

  it('waits at most lock_timeout for a locked table, names it and its holder, and succeeds on a later retry', async () => {
    await converge(db);
    await db.pool.query('ALTER TABLE cdm_work.cdm_work_item DROP COLUMN resolution');
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE cdm_work.cdm_work_item IN SHARE UPDATE EXCLUSIVE MODE');
      const plan = await planFor(db);
      const started = performance.now();
      const blocked = await applyPlan(db.pool, plan, {
        lockTimeoutMs: 200,
        retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 50 },
      });
      const elapsed = performance.now() - started;
      expect(blocked.error?.reason).toBe('LockTimeout');
      expect(blocked.error?.retryable).toBe(true);
      expect(blocked.error?.message).toContain('cdm_work.cdm_work_item');
      const holderPid = (await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      expect(blocked.error?.message).toContain(`held by pid ${holderPid} (idle in transaction`);
      expect(blocked.attempts).toBe(2);
      // Bounded by the timeouts, not by the lock holder: two 200 ms waits and a 50 ms pause.
      expect(elapsed).toBeLessThan(5_000);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    const retried = await applyPlan(db.pool, await planFor(db), FAST);
    expect(retried.error).toBeUndefined();
    expect(retried.results.map((r) => [r.kind, r.status])).toEqual([['addColumn', 'Success']]);
  });

  it('detects an invalid index left by a failed concurrent build and rebuilds it', async () => {
    await converge(db, [WORK_ITEM]);
    await db.pool.query('DROP INDEX cdm_work.cdm_work_item_updated_idx');
    await db.pool.query(
      `INSERT INTO cdm_work.cdm_work_item (cdm_id, project_cdm_id, issue_type, status, status_category, summary, created_at, updated_at)
       VALUES ('a', 'p', 'Bug', 'Open', 'todo', 's', '2024-01-01', '2024-01-01'), ('b', 'p', 'Bug', 'Open', 'todo', 's', '2024-01-01', '2024-01-01')`,
    );
    // A unique build over duplicate values fails after creating the index entry, leaving it INVALID.
    await expect(
      db.pool.query(
        'CREATE UNIQUE INDEX CONCURRENTLY cdm_work_item_updated_idx ON cdm_work.cdm_work_item (updated_at)',
      ),
    ).rejects.toThrow(/could not create unique index/);
    const invalid = await db.pool.query(
      "SELECT indisvalid FROM pg_index WHERE indexrelid = 'cdm_work.cdm_work_item_updated_idx'::regclass",
    );
    expect(invalid.rows[0].indisvalid).toBe(false);

    const plan = await planFor(db, [WORK_ITEM]);
    expect(plan.steps.map((s) => s.kind)).toEqual(['rebuildIndex']);
    expect((await applyPlan(db.pool, plan, FAST)).error).toBeUndefined();
    const valid = await db.pool.query(
      "SELECT i.indisvalid, i.indisunique FROM pg_index i WHERE indexrelid = 'cdm_work.cdm_work_item_updated_idx'::regclass",
    );
    expect(valid.rows[0]).toEqual({ indisvalid: true, indisunique: false });
  });

  it('rejects an invalid or too long schema or prefix before any SQL runs', async () => {
    const audit = await installDdlAudit(db.pool);
    await audit.reset();
    expect(() => desiredSchema(CDM_WORK_MODELS, { ...LAYOUT, schema: 'cdm; drop table x' })).toThrow(
      /schema "cdm; drop table x" must match/,
    );
    const long = 'p'.repeat(40);
    expect(() => desiredSchema(CDM_WORK_MODELS, { ...LAYOUT, tablePrefix: long })).toThrow(
      new RegExp(
        `tablePrefix "${long}" makes the name ${long}\\w+ 77 bytes long, over Postgres' 63-byte limit .*shorten the prefix by at least 14 byte`,
      ),
    );
    expect(() => desiredSchema(CDM_WORK_MODELS, { ...LAYOUT, schema: 's'.repeat(64) })).toThrow(
      /64 bytes; the limit is 63/,
    );
    expect(await audit.commands()).toEqual([]);
    await db.pool.query('DROP EVENT TRIGGER test_audit_ddl');
  });
});
