import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import type { Envelope } from '../support/envelope.js';

const PROVISION =
  'apiVersion: cdm.nucleus.io/v1alpha1\nkind: CdmSinkProvision\nmetadata: { name: jira-cdm, namespace: team }\nspec:\n  endpoint: { templateId: cdm.jdbc, connection: { secretRef: { name: jira-cdm-sink, key: url } } }\n  models: [cdm.work.user]\n';

interface Entry {
  id: string;
  database: { source: string; secret?: string; key?: string; reason?: string } | null;
}

describe('which database each provision used (subprocess, real Postgres)', () => {
  let dir: string;
  let db: TestDatabase;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-dbsource-'));
    // As a checkout would be: readable by the postgres system user the embedded server runs as.
    await chmod(dir, 0o755);
    db = await createTestDatabase('clisrc');
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('apply -o json without a matching Secret or URL says, on stderr and in the JSON, that it used the embedded Postgres', async () => {
    const file = path.join(dir, 'no-secret.yaml');
    await writeFile(file, PROVISION);
    const result = await runCli(['apply', '-f', file, '-o', 'json'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      'team/jira-cdm: Secret team/jira-cdm-sink (key url) is not among the manifests and no --database-url or CDM_SINK_DATABASE_URL is set: using the embedded Postgres at .cdm-sink/',
    );
    const [entry] = (JSON.parse(result.stdout) as Envelope<Entry>).provisions;
    expect(entry!.database).toEqual({
      source: 'embedded',
      secret: 'team/jira-cdm-sink',
      key: 'url',
      reason: expect.stringContaining('Secret team/jira-cdm-sink (key url) is not among the manifests'),
    });
  });

  it('plan -o json names the source otherwise: flag, env or secret', async () => {
    const plain = path.join(dir, 'plain.yaml');
    await writeFile(plain, PROVISION);
    const withSecret = path.join(dir, 'with-secret.yaml');
    await writeFile(
      withSecret,
      `apiVersion: v1\nkind: Secret\nmetadata: { name: jira-cdm-sink, namespace: team }\nstringData: { url: "${db.url}" }\n---\n${PROVISION}`,
    );
    const databaseOf = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const result = await runCli(['plan', ...args, '-o', 'json'], { cwd: dir, env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toContain('embedded');
      return (JSON.parse(result.stdout) as Envelope<Entry>).provisions[0]!.database;
    };
    expect(await databaseOf(['-f', plain, '--database-url', db.url])).toEqual({ source: 'flag' });
    expect(await databaseOf(['-f', plain], { CDM_SINK_DATABASE_URL: db.url })).toEqual({ source: 'env' });
    expect(await databaseOf(['-f', withSecret])).toEqual({
      source: 'secret',
      secret: 'team/jira-cdm-sink',
      key: 'url',
    });
    // The flag wins over a Secret among the manifests.
    expect(await databaseOf(['-f', withSecret, '--database-url', db.url])).toEqual({ source: 'flag' });
  });
});
