import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from '../support/cli.js';
import { createTestDatabase, installDdlAudit, type TestDatabase } from '../support/database.js';
import type { Envelope } from '../support/envelope.js';
import { expectValidateRejectsEach, INVALID_SPECS } from '../support/invalid-provisions.js';

const EXAMPLES = path.join(REPO, 'manifests/examples');

async function tablesIn(db: TestDatabase, schema: string): Promise<string[]> {
  const { rows } = await db.pool.query(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
    [schema],
  );
  return rows.map((r) => r.table_name);
}

describe('cdm-sink CLI (subprocess, real Postgres)', () => {
  let sink: TestDatabase;
  let catalog: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    sink = await createTestDatabase('cli');
    catalog = await createTestDatabase('clicat');
    dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-cli-'));
  });
  afterAll(async () => {
    await sink.drop();
    await catalog.drop();
  });

  it('plan lists every statement apply then runs, and changes nothing', async () => {
    const audit = await installDdlAudit(sink.pool);
    await audit.reset();
    const plan = await runCli([
      'plan',
      '-f',
      EXAMPLES,
      '--database-url',
      sink.url,
      '--catalog-url',
      catalog.url,
      '-o',
      'json',
    ]);
    expect(plan.code, plan.stderr).toBe(0);
    const planned = (
      JSON.parse(plan.stdout) as Envelope<{
        plan: { steps: Array<{ sql: string[] }>; catalogChanges: unknown[] };
      }>
    ).provisions;
    const statements = planned.flatMap((p) => p.plan.steps.flatMap((s) => s.sql));
    expect(statements.length).toBeGreaterThan(100);
    expect(planned.flatMap((p) => p.plan.catalogChanges)).toHaveLength(7);
    expect(await audit.commands()).toEqual([]);
    expect(await tablesIn(sink, 'cdm_work')).toEqual([]);

    const apply = await runCli([
      'apply',
      '-f',
      EXAMPLES,
      '--database-url',
      sink.url,
      '--catalog-url',
      catalog.url,
      '-o',
      'json',
    ]);
    expect(apply.code, apply.stderr).toBe(0);
    // Both provisions planned CREATE SCHEMA against the empty database; the second one's apply re-plans
    // under its lock, finds the schema there, and skips it.
    expect(await audit.commands()).toHaveLength(statements.length - 1);
    await sink.pool.query('DROP EVENT TRIGGER test_audit_ddl');
  });

  it('apply registers one catalog row per table in the separate catalog database, and a re-apply changes nothing', async () => {
    const rows = await catalog.pool.query(
      'SELECT dataset_id, labels, updated_at, schema_version FROM catalog.dataset ORDER BY 1',
    );
    expect(rows.rows).toHaveLength(7);
    for (const row of rows.rows) {
      expect(row.labels).toMatchObject({
        cdm_model_id: row.dataset_id.split('@')[0],
        sink_endpoint_id: row.dataset_id.split('@')[1],
      });
    }
    expect(await tablesIn(sink, 'catalog')).toEqual([]);
    const again = await runCli([
      'apply',
      '-f',
      EXAMPLES,
      '--database-url',
      sink.url,
      '--catalog-url',
      catalog.url,
      '-o',
      'json',
    ]);
    expect(again.code, again.stderr).toBe(0);
    const results = (JSON.parse(again.stdout) as Envelope<{ statementsApplied: number; ready: boolean }>)
      .provisions;
    expect(results.map((r) => [r.ready, r.statementsApplied])).toEqual([
      [true, 0],
      [true, 0],
    ]);
    const after = await catalog.pool.query(
      'SELECT dataset_id, labels, updated_at, schema_version FROM catalog.dataset ORDER BY 1',
    );
    expect(after.rows).toEqual(rows.rows);
  });

  it('reports status exactly in the shape of DESIGN.md §2', async () => {
    const result = await runCli([
      'apply',
      '-f',
      path.join(EXAMPLES, 'jira-cdm.yaml'),
      '--database-url',
      sink.url,
      '-o',
      'json',
    ]);
    const [{ status }] = JSON.parse(result.stdout).provisions;
    expect(Object.keys(status).sort()).toEqual(
      [
        'capabilities',
        'conditions',
        'datasets',
        'lastPlan',
        'modelCount',
        'observedGeneration',
        'sinkEndpointId',
        'tables',
      ].sort(),
    );
    expect(status.observedGeneration).toBe(1);
    expect(status.sinkEndpointId).toBe('data-platform/jira-cdm');
    expect(
      status.conditions.map((c: { type: string; status: string; reason: string }) => [
        c.type,
        c.status,
        c.reason,
      ]),
    ).toEqual([
      ['Ready', 'True', 'Provisioned'],
      ['Reconciling', 'False', 'Provisioned'],
      ['Stalled', 'False', 'Provisioned'],
      ['SinkConnected', 'True', 'Connected'],
      ['SchemaReady', 'True', 'InSync'],
      ['CatalogRegistered', 'True', 'Registered'],
    ]);
    for (const c of status.conditions) {
      expect(Object.keys(c).sort()).toEqual([
        'lastTransitionTime',
        'message',
        'observedGeneration',
        'reason',
        'status',
        'type',
      ]);
      expect(c.observedGeneration).toBe(1);
    }
    expect(status.tables[2]).toEqual({
      model: 'cdm.work.item',
      table: 'cdm_work.cdm_work_item',
      state: 'Ready',
      schemaHash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      message: '',
    });
    expect(status.datasets[2]).toEqual({
      model: 'cdm.work.item',
      datasetId: 'cdm.work.item@data-platform/jira-cdm',
      registered: true,
    });
    expect(status.lastPlan).toEqual({ hash: expect.stringMatching(/^sha256:/), statements: 0 });
    expect(status.capabilities).toEqual({
      supports_raw: false,
      supports_cdm_work: true,
      supported_cdm_models: [
        'cdm.work.project',
        'cdm.work.user',
        'cdm.work.item',
        'cdm.work.comment',
        'cdm.work.worklog',
      ],
      'sink.autoprovision': true,
    });
  });

  it('validate names file, document, field path and fix for each bad manifest', async () => {
    await expectValidateRejectsEach(path.join(dir, 'bad.yaml'), INVALID_SPECS);
    expect((await runCli(['validate', '-f', EXAMPLES])).code).toBe(0);
  });

  it('apply of an invalid provision exits 1 with UnsupportedModel before connecting, and touches nothing', async () => {
    const fresh = await createTestDatabase('cliinv');
    try {
      const audit = await installDdlAudit(fresh.pool);
      const file = path.join(dir, 'invalid.yaml');
      await writeFile(
        file,
        'apiVersion: cdm.nucleus.io/v1alpha1\nkind: CdmSinkProvision\nmetadata: { name: x, namespace: ns }\nspec:\n  endpoint: { templateId: cdm.jdbc, connection: { secretRef: { name: s } } }\n  models: [cdm.work.sprint]\n',
      );
      const result = await runCli(['apply', '-f', file, '--database-url', fresh.url, '-o', 'json']);
      expect(result.code).toBe(1);
      const envelope = JSON.parse(result.stdout) as Envelope<{ ready: boolean; status: unknown }>;
      expect(envelope.provisions).toEqual([
        expect.objectContaining({ valid: false, ready: false, status: null }),
      ]);
      expect(envelope.errors).toEqual([
        expect.objectContaining({ provision: 'ns/x', path: 'spec.models[0]', reason: 'UnsupportedModel' }),
      ]);
      expect(await audit.commands()).toEqual([]);
      const schemas = await fresh.pool.query(
        "SELECT nspname FROM pg_namespace WHERE nspname IN ('cdm_work', 'catalog')",
      );
      expect(schemas.rows).toEqual([]);
    } finally {
      await fresh.drop();
    }
  });

  it('an unreachable database is ConnectionFailed, not Stalled, and the password never shows', async () => {
    const password = 'S3cr3t-Pa55-xyz';
    const url = `postgresql://cdm:${password}@127.0.0.1:1/analytics`;
    for (const format of ['json', 'text']) {
      const result = await runCli([
        'apply',
        '-f',
        path.join(EXAMPLES, 'jira-cdm.yaml'),
        '--database-url',
        url,
        '-o',
        format,
      ]);
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).not.toContain(password);
      if (format === 'json') {
        const [{ status }] = JSON.parse(result.stdout).provisions;
        const by = (t: string) => status.conditions.find((c: { type: string }) => c.type === t);
        expect(by('Ready')).toMatchObject({ status: 'False', reason: 'ConnectionFailed' });
        expect(by('Stalled')).toMatchObject({ status: 'False' });
        expect(by('Reconciling')).toMatchObject({ status: 'True', reason: 'ConnectionFailed' });
      }
    }
    const wrong = new URL(sink.url);
    wrong.password = password;
    const auth = await runCli([
      'apply',
      '-f',
      path.join(EXAMPLES, 'jira-cdm.yaml'),
      '--database-url',
      wrong.toString(),
      '-o',
      'json',
    ]);
    expect(auth.stdout + auth.stderr).not.toContain(password);
    expect(JSON.parse(auth.stdout).provisions[0].status.conditions[0]).toMatchObject({
      status: 'False',
      reason: 'AuthenticationFailed',
    });
  });

  it('uses a Secret among the manifests for the connection URL', async () => {
    const fresh = await createTestDatabase('clisec');
    try {
      const file = path.join(dir, 'with-secret.yaml');
      await writeFile(
        file,
        `apiVersion: v1\nkind: Secret\nmetadata: { name: sink, namespace: team }\ndata:\n  url: ${Buffer.from(fresh.url).toString('base64')}\n---\napiVersion: cdm.nucleus.io/v1alpha1\nkind: CdmSinkProvision\nmetadata: { name: team-sink, namespace: team }\nspec:\n  endpoint: { templateId: cdm.jdbc, connection: { secretRef: { name: sink } } }\n  models: [cdm.work.user]\n`,
      );
      const result = await runCli(['apply', '-f', file]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(await tablesIn(fresh, 'cdm_work')).toEqual(['cdm_work_user']);
    } finally {
      await fresh.drop();
    }
  });

  it('with no database URL, provisions an embedded Postgres kept under .cdm-sink/', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-embedded-'));
    // As a checkout would be: readable by the postgres system user the embedded server runs as.
    await chmod(cwd, 0o755);
    const first = await runCli(['apply', '-f', EXAMPLES], { cwd });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stderr).toMatch(
      /embedded Postgres ready at postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres/,
    );
    expect(first.stdout).toMatch(/data-platform\/jira-cdm\s+True\s+Provisioned\s+False\s+5\/5/);
    const second = await runCli(['apply', '-f', EXAMPLES, '-o', 'json'], { cwd });
    expect(second.code).toBe(0);
    expect(
      (JSON.parse(second.stdout) as Envelope<{ statementsApplied: number }>).provisions.map(
        (r) => r.statementsApplied,
      ),
    ).toEqual([0, 0]);
  });

  it('exits 2 on usage errors', async () => {
    expect((await runCli(['apply'])).code).toBe(2);
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['plan', '-f', EXAMPLES, '--bogus'])).code).toBe(2);
  });
});
