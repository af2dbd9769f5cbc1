import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from '../../test/support/cli.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';

const HERE = import.meta.dirname;
const WORKER = path.join(HERE, 'worker.ts');
const MANIFEST = path.join(HERE, 'provision.yaml');
const TRACER = path.join(HERE, 'test-support/trace-imports.mjs');
const WRITER_MODULE = /\/src\/writer\//;
// Absolute, so the worker also starts from a working directory outside the repository.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const SCHEMA = 'jira_cdm';
const TABLES = ['cdm_work_project', 'cdm_work_user', 'cdm_work_item', 'cdm_work_comment', 'cdm_work_worklog'];
const MODELS = ['cdm.work.project', 'cdm.work.user', 'cdm.work.item', 'cdm.work.comment', 'cdm.work.worklog'];
const EXPECTED = [2, 6, 12, 20, 15];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface Counts {
  modelId: string;
  received: number;
  inserted: number;
  updated: number;
  unchanged: number;
  stale: number;
  rejected: number;
}

/** Runs the worker as a user would (`node --import tsx worker.ts …`), optionally tracing every module it loads. */
function runWorker(
  args: readonly string[],
  options: { cwd?: string; traceFile?: string } = {},
): Promise<Run> {
  const env = {
    ...process.env,
    CDM_SINK_DATABASE_URL: '',
    CDM_CATALOG_URL: '',
    ...(options.traceFile ? { JIRA_INGEST_TRACE_FILE: options.traceFile } : {}),
    // The repository's tsconfig, whatever the working directory: its `paths` resolve the package to the
    // sources, not to a dist/ build that may be stale or, during the packaging test, half rewritten.
    TSX_TSCONFIG_PATH: path.join(REPO, 'tsconfig.json'),
  };
  const loaders = ['--import', TSX, ...(options.traceFile ? ['--import', TRACER] : [])];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...loaders, WORKER, ...args],
      { cwd: options.cwd ?? REPO, env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function countsOf(run: Run): Counts[] {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout).models;
}

async function rowCounts(db: TestDatabase): Promise<number[]> {
  const counts: number[] = [];
  for (const table of TABLES) {
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.${table}`);
    counts.push(rows[0].n);
  }
  return counts;
}

/** Every row's `synced_at` and tuple id: a rewrite of an unchanged row would change at least the latter. */
async function rowVersions(db: TestDatabase): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const table of TABLES) {
    const { rows } = await db.pool.query(
      `SELECT cdm_id, synced_at::text AS synced_at, xmin::text AS xmin FROM ${SCHEMA}.${table}`,
    );
    for (const r of rows) versions[`${table}/${r.cdm_id}`] = `${r.synced_at} ${r.xmin}`;
  }
  return versions;
}

async function traced(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
}

async function fixture<T>(name: string): Promise<T> {
  return JSON.parse(await readFile(path.join(HERE, 'fixtures', name), 'utf8'));
}

describe('jira-ingest worker, end to end (subprocess, real Postgres)', () => {
  let sink: TestDatabase;
  let rawSink: TestDatabase;
  let tmp: string;

  beforeAll(async () => {
    sink = await createTestDatabase('jira');
    rawSink = await createTestDatabase('jiraraw');
    tmp = await mkdtemp(path.join(os.tmpdir(), 'jira-ingest-'));
  });
  afterAll(async () => {
    await sink?.drop();
    await rawSink?.drop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('provisions the sink with the CLI, then writes every model in dependency order', async () => {
    const run = await runWorker(['--database-url', sink.url, '--json']);
    const counts = countsOf(run);
    expect(counts.map((c) => c.modelId)).toEqual(MODELS);
    expect(counts.map((c) => c.received)).toEqual(EXPECTED);
    expect(counts.map((c) => c.inserted)).toEqual(EXPECTED);
    expect(counts.map((c) => c.updated + c.unchanged + c.stale + c.rejected)).toEqual([0, 0, 0, 0, 0]);
    expect(run.stderr).toMatch(/cdm-sink: examples\/jira-ingest\s+True\s+Provisioned/);
    expect(await rowCounts(sink)).toEqual(EXPECTED);

    const { rows: datasets } = await sink.pool.query(
      `SELECT model_id, schema_name, table_name, status FROM catalog.dataset
        WHERE sink_endpoint_id = 'examples/jira-ingest' ORDER BY table_name`,
    );
    expect(datasets).toHaveLength(5);
    expect(datasets.every((d) => d.schema_name === SCHEMA && d.status === 'active')).toBe(true);
    expect(datasets.map((d) => d.model_id).sort()).toEqual([...MODELS].sort());
  });

  it('stores the mapped values: status categories, label arrays, closed_at, ADF text and properties', async () => {
    const q = async (sql: string) => (await sink.pool.query(sql)).rows;
    const items = `${SCHEMA}.cdm_work_item`;

    const categories = await q(
      `SELECT status_category, count(*)::int AS n FROM ${items} GROUP BY 1 ORDER BY 1`,
    );
    expect(Object.fromEntries(categories.map((r) => [r.status_category, r.n]))).toEqual({
      done: 5,
      in_progress: 4,
      todo: 2,
      unknown: 1,
    });

    const [story] = await q(`SELECT * FROM ${items} WHERE source_issue_key = 'ENG-2'`);
    expect(story.labels).toEqual(['cdm', 'infra']);
    expect(story.fix_versions).toEqual(['2024.2']);
    expect(story.closed_at.toISOString()).toBe('2024-03-28T16:45:09.250Z');
    expect(story.created_at.toISOString()).toBe('2024-03-05T09:15:30.123Z');
    expect(story.story_points).toBe('5');
    expect(story.description).toMatch(
      /^Use the CLI to create the five cdm\.work tables in the staging sink\.\n\n/,
    );
    const page = await fixture<{ issues: { key: string; fields: Record<string, unknown> }[] }>(
      'search-jql.json',
    );
    const fields = page.issues.find((i) => i.key === 'ENG-2')!.fields;
    expect(story.properties.description_adf).toEqual(fields.description);
    expect(story.properties.customfield_10020).toEqual(fields.customfield_10020);
    expect(story.properties).not.toHaveProperty('customfield_10016');

    const [wontDo] = await q(
      `SELECT status_category, closed_at FROM ${items} WHERE source_issue_key = 'ENG-8'`,
    );
    expect(wontDo.status_category).toBe('done');
    expect(wontDo.closed_at.toISOString()).toBe('2024-05-06T09:15:40.300Z');
    const [open] = await q(
      `SELECT closed_at, status_category FROM ${items} WHERE source_issue_key = 'SUP-4'`,
    );
    expect(open).toEqual({ closed_at: null, status_category: 'unknown' });

    const bugs = await q(`SELECT source_issue_key FROM ${items} WHERE labels @> ARRAY['bug'] ORDER BY 1`);
    expect(bugs.map((r) => r.source_issue_key)).toEqual(['ENG-6', 'ENG-8']);

    const [comment] = await q(
      `SELECT body, is_public, visibility, properties FROM ${SCHEMA}.cdm_work_comment WHERE source_comment_id = '10218'`,
    );
    expect(comment).toMatchObject({
      body: 'The SAML certificate of the Globex connection expired at 00:00 UTC. Rotating it now.',
      is_public: false,
      visibility: 'role:Developers',
    });
    expect(comment.properties.body_adf.type).toBe('doc');

    // Denormalised project ids agree with the items they were copied from.
    for (const table of ['cdm_work_comment', 'cdm_work_worklog']) {
      const [{ n }] = await q(
        `SELECT count(*)::int AS n FROM ${SCHEMA}.${table} c JOIN ${items} i ON i.cdm_id = c.item_cdm_id
          WHERE c.project_cdm_id = i.project_cdm_id`,
      );
      expect(n, table).toBe(table === 'cdm_work_comment' ? 20 : 15);
    }
    const perProject = await q(
      `SELECT project_cdm_id, sum(time_spent_seconds)::int AS s FROM ${SCHEMA}.cdm_work_worklog GROUP BY 1 ORDER BY 1`,
    );
    expect(perProject).toEqual([
      { project_cdm_id: 'jira:acme.atlassian.net:project:10000', s: 114300 },
      { project_cdm_id: 'jira:acme.atlassian.net:project:10100', s: 20700 },
    ]);

    // Every user reference of an item points at a loaded user row.
    const [{ dangling }] = await q(
      `SELECT count(*)::int AS dangling FROM ${items} i, unnest(ARRAY[i.reporter_cdm_id, i.assignee_cdm_id, i.creator_cdm_id]) AS ref
        WHERE ref IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${SCHEMA}.cdm_work_user u WHERE u.cdm_id = ref)`,
    );
    expect(dangling).toBe(0);
    const [{ hidden }] = await q(
      `SELECT count(*)::int AS hidden FROM ${SCHEMA}.cdm_work_user WHERE email IS NULL`,
    );
    expect(hidden).toBe(2);
  });

  it('a second run provisions nothing, reports every row unchanged and moves no synced_at', async () => {
    const before = await rowVersions(sink);
    const traceFile = path.join(tmp, 'cdm-trace.txt');
    const run = await runWorker(['--database-url', sink.url, '--json'], { traceFile });
    const counts = countsOf(run);
    expect(counts.map((c) => c.unchanged)).toEqual(EXPECTED);
    expect(counts.map((c) => c.inserted + c.updated + c.stale + c.rejected)).toEqual([0, 0, 0, 0, 0]);
    expect(run.stderr).toMatch(/examples\/jira-ingest\s+True\s+Provisioned\s+False\s+5\/5\s+0\b/);
    expect(await rowVersions(sink)).toEqual(before);
    // Control for the raw-mode test below: the tracer does see the writer when a CDM unit loads it.
    expect((await traced(traceFile)).some((url) => WRITER_MODULE.test(url))).toBe(true);
  });

  it('prints a table of counts per model without --json', async () => {
    const run = await runWorker(['--database-url', sink.url]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/model\s+received\s+inserted\s+updated\s+unchanged\s+stale\s+rejected/);
    expect(run.stdout).toMatch(/cdm\.work\.comment\s+20\s+0\s+0\s+20\s+0\s+0/);
  });

  it('writes the valid rows, names each rejected one and exits 1 when a source value is invalid', async () => {
    const fixtures = path.join(tmp, 'broken-fixtures');
    await cp(path.join(HERE, 'fixtures'), fixtures, { recursive: true });
    const page = await fixture<{ issues: { key: string; fields: { created: string } }[] }>('search-jql.json');
    page.issues.find((i) => i.key === 'ENG-5')!.fields.created = '2024-02-30T10:00:00.000+0100';
    await writeFile(path.join(fixtures, 'search-jql.json'), JSON.stringify(page));

    const run = await runWorker(['--database-url', sink.url, '--fixtures', fixtures, '--json']);
    expect(run.code).toBe(1);
    const item = JSON.parse(run.stdout).models.find((c: Counts) => c.modelId === 'cdm.work.item');
    expect(item).toMatchObject({ received: 12, rejected: 1, unchanged: 11 });
    expect(run.stderr).toMatch(
      /rejected cdm\.work\.item row \d+ \(jira:acme\.atlassian\.net:item:10005\): created_at/,
    );
    const { rows } = await sink.pool.query(
      `SELECT created_at FROM ${SCHEMA}.cdm_work_item WHERE cdm_id = 'jira:acme.atlassian.net:item:10005'`,
    );
    expect(rows[0].created_at.toISOString()).toBe('2024-04-02T07:24:12.090Z');
  });

  it('raw mode lands the untouched Jira JSON, never loads the writer and leaves the CDM tables empty', async () => {
    const provisioned = await runCli(['apply', '-f', MANIFEST, '--database-url', rawSink.url]);
    expect(provisioned.code, provisioned.stderr).toBe(0);
    const rawDir = path.join(tmp, 'raw');
    const traceFile = path.join(tmp, 'raw-trace.txt');
    // The database URL is passed on purpose: a raw unit has no use for it, even when configured.
    const run = await runWorker(
      ['--mode', 'raw', '--raw-dir', rawDir, '--database-url', rawSink.url, '--json'],
      {
        traceFile,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.files.map((f: { entity: string; records: number }) => [f.entity, f.records])).toEqual([
      ['project', 2],
      ['user', 6],
      ['issue', 12],
    ]);

    const lines = async (entity: string) =>
      (await readFile(path.join(rawDir, 'acme.atlassian.net', `${entity}.ndjson`), 'utf8'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l));
    const pages = [
      await fixture<{ issues: unknown[] }>('search-jql.json'),
      await fixture<{ issues: unknown[] }>('search-jql.CAEaAggD.json'),
    ];
    expect(await lines('project')).toEqual(
      (await fixture<{ values: unknown[] }>('project-search.json')).values,
    );
    expect(await lines('user')).toEqual(await fixture<unknown[]>('users-search.json'));
    expect(await lines('issue')).toEqual(pages.flatMap((p) => p.issues));

    const loaded = await traced(traceFile);
    expect(loaded.some((url) => url.endsWith('/examples/jira-ingest/raw-sink.ts'))).toBe(true);
    expect(loaded.filter((url) => WRITER_MODULE.test(url) || url.includes('cdm-unit'))).toEqual([]);
    expect(
      loaded.filter((url) => url.startsWith('file:') && !url.includes('/examples/jira-ingest/')),
    ).toEqual([]);

    expect(await rowCounts(rawSink)).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('jira-ingest worker without a database URL', () => {
  let cwd: string | undefined;
  afterAll(async () => {
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  it("provisions and writes to the CLI's embedded Postgres kept under .cdm-sink/ in the working directory", {
    timeout: 180_000,
  }, async () => {
    cwd = await mkdtemp(path.join(os.tmpdir(), 'jira-ingest-embedded-'));
    // As a checkout would be: readable by the postgres system user the embedded server runs as.
    await chmod(cwd, 0o755);
    const first = await runWorker(['--json'], { cwd });
    expect(countsOf(first).map((c) => c.inserted)).toEqual(EXPECTED);
    expect(first.stderr).toMatch(
      /cdm-sink: embedded Postgres ready at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+/,
    );
    expect(existsSync(path.join(cwd, '.cdm-sink', 'port'))).toBe(true);
    expect(existsSync(path.join(cwd, '.cdm-sink', 'pg', 'PG_VERSION'))).toBe(true);
    // The same cluster again, for the CLI and for the writes: everything is already there.
    const second = await runWorker(['--json'], { cwd });
    expect(countsOf(second).map((c) => c.unchanged)).toEqual(EXPECTED);
  });
});
