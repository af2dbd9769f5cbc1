import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const PROVISION = (name: string, catalog = '') =>
  `apiVersion: cdm.nucleus.io/v1alpha1\nkind: CdmSinkProvision\nmetadata: { name: ${name}, namespace: ns }\nspec:\n  endpoint: { templateId: cdm.jdbc, connection: { secretRef: { name: s } } }\n  models: [cdm.work.user]\n${catalog}`;

/** The classic "billion laughs": 9 levels of 9 aliases each, 9^9 strings once expanded. */
function aliasBomb(indent: string): string {
  const names = 'abcdefghi';
  const lines = [`${indent}a: &a [${Array(9).fill('"lol"').join(',')}]`];
  for (let i = 1; i < names.length; i += 1)
    lines.push(
      `${indent}${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(',')}]`,
    );
  return `${lines.join('\n')}\n`;
}

function expectNoStackTrace(result: { stdout: string; stderr: string }): void {
  const all = result.stdout + result.stderr;
  expect(all).not.toMatch(/ReferenceError|Error: |\n\s+at /);
}

describe('cdm-sink input limits (subprocess)', () => {
  let dir: string;
  let db: TestDatabase;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-limits-'));
    db = await createTestDatabase('clilim');
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('an alias bomb in a provision is a manifest error for validate, plan and apply, never a stack trace', async () => {
    const file = path.join(dir, 'bomb.yaml');
    await writeFile(
      file,
      `${PROVISION('fine')}---\n${PROVISION('bomb', `  catalog:\n    labels:\n${aliasBomb('      ')}`)}`,
    );
    for (const command of ['validate', 'plan', 'apply']) {
      const args = command === 'validate' ? [] : ['--database-url', db.url];
      for (const format of ['text', 'json']) {
        const result = await runCli([command, '-f', file, ...args, '-o', format]);
        expect(result.code, `${command} -o ${format}: ${result.stderr}`).toBe(1);
        expectNoStackTrace(result);
        const output = result.stdout + result.stderr;
        expect(output, `${command} -o ${format}`).toMatch(/alias/i);
        expect(output).toContain('100');
        if (format === 'text') expect(output).toContain(`${file} (document 2): `);
        else expect(output).toMatch(/"document": 2|\(document 2\)/);
      }
    }
  });

  it('never expands a document of a kind the CLI ignores, so an alias bomb there is harmless', async () => {
    const file = path.join(dir, 'ignored-bomb.yaml');
    await writeFile(
      file,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\ndata:\n${aliasBomb('  ')}---\n${PROVISION('fine')}`,
    );
    const result = await runCli(['validate', '-f', file]);
    expectNoStackTrace(result);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('1 provision(s) valid');
  });

  it('refuses a 50 MB manifest file quickly, naming the file, the limit and the fix', async () => {
    const file = path.join(dir, 'huge.yaml');
    await writeFile(
      file,
      PROVISION('huge', `  catalog:\n    labels:\n      team: ${'x'.repeat(50 * 1024 * 1024)}\n`),
    );
    const started = performance.now();
    const result = await runCli(['validate', '-f', file]);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(result.code).toBe(1);
    expectNoStackTrace(result);
    expect(result.stderr.length).toBeLessThan(1000);
    expect(result.stderr).toContain(`invalid ${file}: `);
    expect(result.stderr).toMatch(/8 MiB/);
    expect(result.stderr).toMatch(/split/);
  });

  it('refuses a file with more than 1000 documents, naming the file and the limit', async () => {
    const file = path.join(dir, 'many.yaml');
    const configMap = (i: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c${i} }\n`;
    await writeFile(file, Array.from({ length: 1001 }, (_, i) => configMap(i)).join('---\n'));
    for (const command of ['validate', 'plan', 'apply']) {
      const args = command === 'validate' ? [] : ['--database-url', db.url];
      const result = await runCli([command, '-f', file, ...args]);
      expect(result.code, command).toBe(1);
      expectNoStackTrace(result);
      expect(result.stdout + result.stderr, command).toMatch(
        new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(document 1001\\): .*1000`),
      );
    }
  });

  it('refuses a file of more than a million YAML tokens within seconds, even under the size limit', async () => {
    const file = path.join(dir, 'dense.yaml');
    // 7 MiB of `1,`: 3.5 million list items, which the YAML parser needs a minute and gigabytes for.
    await writeFile(
      file,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: dense }\ndata:\n  a: [${'1,'.repeat(3_500_000)}1]\n`,
    );
    const started = performance.now();
    const result = await runCli(['validate', '-f', file]);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(result.code).toBe(1);
    expectNoStackTrace(result);
    expect(result.stderr).toMatch(/more than 1,000,000 YAML tokens.*split it/);
  });

  it('reads a mapping with 40,000 keys in linear time and still reports a duplicate key', async () => {
    const file = path.join(dir, 'wide.yaml');
    const keys = Array.from({ length: 40_000 }, (_, i) => `  k${i}: v${i}`).join('\n');
    await writeFile(
      file,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: wide }\ndata:\n${keys}\n---\n${PROVISION('fine')}`,
    );
    const started = performance.now();
    const wide = await runCli(['validate', '-f', file]);
    expect(performance.now() - started).toBeLessThan(8_000);
    expect(wide.code, wide.stdout + wide.stderr).toBe(0);

    await writeFile(
      file,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: dup }\ndata:\n  a: 1\n  b: 2\n  a: 3\n`,
    );
    const duplicate = await runCli(['validate', '-f', file]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/\(document 1\): invalid YAML: .*unique.* at line 7, column 3/);
  });

  it('writes every line of a long report before exiting, even into a pipe', async () => {
    const file = path.join(dir, 'many-errors.yaml');
    const labels = Array.from({ length: 5000 }, (_, i) => `      k${i}: "a\\0"`).join('\n');
    await writeFile(file, PROVISION('many', `  catalog:\n    labels:\n${labels}\n`));
    const result = await runCli(['validate', '-f', file]);
    expect(result.code).toBe(1);
    // One per NUL value, and one for more than 64 labels.
    expect(result.stdout).toBe('5001 error(s)\n');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(5001);
  });

  it("applies the CRD's maxLength to a label value with a short message that does not echo the value", async () => {
    const file = path.join(dir, 'long-label.yaml');
    const value = 'y'.repeat(2 * 1024 * 1024);
    await writeFile(file, PROVISION('long', `  catalog:\n    labels:\n      team: ${value}\n`));
    const started = performance.now();
    const result = await runCli(['validate', '-f', file]);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(result.code).toBe(1);
    const line = result.stderr.split('\n').find((l) => l.includes('spec.catalog.labels.team'));
    expect(line).toBeDefined();
    expect(line!.length).toBeLessThan(400);
    expect(line).toMatch(/"y{64}…" \(2097152 characters\) is longer than 256 characters/);
  });
});
