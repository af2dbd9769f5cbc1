import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import type { Envelope } from '../support/envelope.js';
import { provisionYaml } from '../support/manifest-text.js';

describe('cdm-sink -f - reads manifests from standard input (subprocess, real Postgres)', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase('clistdin');
    dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-stdin-'));
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('validate -f - reads a piped manifest and calls it <stdin>', async () => {
    const result = await runCli(['validate', '-f', '-'], { input: provisionYaml('piped') });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('ok      ns/piped (<stdin>, document 1)');
    const bad = await runCli(['validate', '-f', '-', '-o', 'json'], {
      input: provisionYaml('Bad_Name'),
    });
    expect(bad.code).toBe(1);
    expect((JSON.parse(bad.stdout) as Envelope).errors).toEqual([
      expect.objectContaining({ file: '<stdin>', document: 1, path: 'metadata.name' }),
    ]);
  });

  it('plan -f - plans a piped manifest, alongside files', async () => {
    const file = path.join(dir, 'file.yaml');
    await writeFile(file, provisionYaml('from-file', { schema: 'from_file' }));
    const result = await runCli(['plan', '-f', '-', '-f', file, '--database-url', db.url, '-o', 'json'], {
      input: provisionYaml('piped'),
    });
    expect(result.code, result.stderr).toBe(0);
    const envelope = JSON.parse(result.stdout) as Envelope<{ id: string; file: string; plan: unknown }>;
    expect(envelope.provisions.map((p) => [p.id, p.file])).toEqual([
      ['ns/piped', '<stdin>'],
      ['ns/from-file', file],
    ]);
    expect(envelope.provisions.every((p) => p.plan !== null)).toBe(true);
  });

  it('applies the file limits to standard input', async () => {
    const result = await runCli(['validate', '-f', '-'], {
      input: `${provisionYaml('huge')}  catalog: { labels: { team: ${'x'.repeat(9 * 1024 * 1024)} } }\n`,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^invalid <stdin>: is larger than 8 MiB; .*split it/m);
    const many = await runCli(['validate', '-f', '-'], {
      input: Array.from({ length: 1001 }, () => 'apiVersion: v1\nkind: ConfigMap\n').join('---\n'),
    });
    expect(many.code).toBe(1);
    expect(many.stderr).toContain(
      'invalid <stdin> (document 1001): the file has more than 1000 YAML documents',
    );
  });

  it('-f - given twice is a usage error', async () => {
    const result = await runCli(['validate', '-f', '-', '-f', '-'], { input: provisionYaml('twice') });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cdm-sink: -f - .*more than once/);
  });
});
