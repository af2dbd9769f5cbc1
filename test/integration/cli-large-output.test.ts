import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import type { Envelope } from '../support/envelope.js';
import { provisionYaml } from '../support/manifest-text.js';

const PIPE_BUFFER = 64 * 1024;

describe('-o json is never cut off, whatever its size (subprocess through pipes, real Postgres)', () => {
  let dir: string;
  let db: TestDatabase;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-large-'));
    db = await createTestDatabase('clilarge');
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('validate -o json of 4,000 provisions: megabytes, parsed whole', async () => {
    // Long names (a DNS subdomain may have 253 characters) make each entry large; 1,000 documents a file
    // is the most the CLI reads from one.
    const name = (i: number) => `${'p'.repeat(240)}-${String(i).padStart(5, '0')}`;
    for (let f = 0; f < 4; f += 1) {
      const docs = Array.from({ length: 1000 }, (_, i) => provisionYaml(name(f * 1000 + i)));
      await writeFile(path.join(dir, `part-${f}.yaml`), docs.join('---\n'));
    }
    const result = await runCli(['validate', '-f', dir, '-o', 'json']);
    expect(result.code, result.stderr.slice(0, 2000)).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(1024 * 1024);
    const envelope = JSON.parse(result.stdout) as Envelope<{ id: string }>;
    expect(envelope.ok).toBe(true);
    expect(envelope.provisions).toHaveLength(4000);
    expect(envelope.provisions.at(-1)!.id).toBe(`ns/${name(3999)}`);
  });

  it('apply -o json of several provisions, each with its status and plan, parsed whole', async () => {
    const file = path.join(dir, 'several.yaml');
    const models = [
      'cdm.work.project',
      'cdm.work.user',
      'cdm.work.item',
      'cdm.work.comment',
      'cdm.work.worklog',
    ];
    const count = 8;
    await writeFile(
      file,
      Array.from({ length: count }, (_, i) =>
        provisionYaml(`sink-${i}`, { models, schema: `sink_${i}` }),
      ).join('---\n'),
    );
    const result = await runCli(['apply', '-f', file, '--database-url', db.url, '-o', 'json']);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(3 * PIPE_BUFFER);
    const envelope = JSON.parse(result.stdout) as Envelope<{ ready: boolean; plan: { steps: unknown[] } }>;
    expect(envelope.provisions).toHaveLength(count);
    expect(envelope.provisions.every((p) => p.ready && p.plan.steps.length > 0)).toBe(true);
  });
});
