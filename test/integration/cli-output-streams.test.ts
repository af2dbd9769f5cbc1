import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { provisionYaml } from '../support/manifest-text.js';

describe('text output: results on stdout, diagnostics on stderr (subprocess, real Postgres)', () => {
  let db: TestDatabase;
  let dir: string;
  let good: string;
  let bad: string;
  beforeAll(async () => {
    db = await createTestDatabase('clistreams');
    dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-streams-'));
    good = path.join(dir, 'good.yaml');
    bad = path.join(dir, 'bad.yaml');
    await writeFile(good, provisionYaml('good'));
    await writeFile(bad, provisionYaml('bad', { models: ['cdm.work.sprint'] }));
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('validate: ok lines and the summary on stdout, input errors on stderr', async () => {
    const result = await runCli(['validate', '-f', good, '-f', bad]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`ok      ns/good (${good}, document 1)\n1 error(s)\n`);
    expect(result.stderr).toMatch(
      new RegExp(`^invalid ${bad} \\(document 1\\): spec\\.models\\[0\\]: unsupported model; `),
    );
    const valid = await runCli(['validate', '-f', good]);
    expect(valid).toEqual({
      code: 0,
      stdout: `ok      ns/good (${good}, document 1)\n1 provision(s) valid\n`,
      stderr: '',
    });
  });

  it('plan: the plan on stdout, nothing on stderr', async () => {
    const result = await runCli(['plan', '-f', good, '--database-url', db.url]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^CdmSinkProvision ns\/good .*\n {2}\+ /);
    expect(result.stderr).toBe('');
  });

  it('apply: the applied steps and the status table on stdout, progress on stderr', async () => {
    const result = await runCli(['apply', '-f', good, '--database-url', db.url]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^PROVISION\s+READY/m);
    expect(result.stdout).not.toMatch(/reconciling/);
    expect(result.stderr).toMatch(/^reconciling ns\/good …$/m);
    expect(result.stderr).not.toMatch(/PROVISION/);
  });

  it('input errors go to stderr for plan and apply too, with a closing line saying nothing ran', async () => {
    for (const [command, verb] of [
      ['plan', 'planned'],
      ['apply', 'applied'],
    ] as const) {
      const result = await runCli([command, '-f', good, '-f', bad, '--database-url', db.url]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`invalid ${bad} (document 1): spec.models[0]: unsupported model; `);
      expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(`1 error(s) in the input: nothing was ${verb}`);
    }
  });
});
