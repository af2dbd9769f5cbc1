import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import type { Envelope } from '../support/envelope.js';
import { provisionYaml } from '../support/manifest-text.js';

const ERROR_FIELDS = ['document', 'file', 'message', 'path', 'provision', 'reason'];
const COMMON = ['document', 'file', 'id', 'valid'];
const FIELDS: Record<string, string[]> = {
  validate: COMMON,
  plan: [...COMMON, 'database', 'error', 'plan'].sort(),
  apply: [...COMMON, 'database', 'plan', 'ready', 'statementsApplied', 'status'].sort(),
};
const UNREACHABLE = 'postgresql://cdm:S3cr3t-Pa55@127.0.0.1:1/sink';

/** Parses `-o json` and checks the shape every command shares, success or failure. */
function envelopeOf(command: string, result: { stdout: string; code: number }): Envelope {
  const envelope = JSON.parse(result.stdout) as Envelope;
  expect(Object.keys(envelope)).toEqual(['command', 'ok', 'provisions', 'errors']);
  expect(envelope.command).toBe(command);
  expect(envelope.ok).toBe(result.code === 0);
  expect(envelope.ok).toBe(envelope.errors.length === 0);
  for (const p of envelope.provisions) expect(Object.keys(p).sort(), command).toEqual(FIELDS[command]);
  for (const e of envelope.errors) expect(Object.keys(e).sort(), command).toEqual(ERROR_FIELDS);
  return envelope;
}

describe('the -o json envelope (subprocess, real Postgres)', () => {
  let dir: string;
  let file: string;
  let db: TestDatabase;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-envelope-'));
    file = path.join(dir, 'one.yaml');
    await writeFile(file, provisionYaml('one', { namespace: 'team' }));
    db = await createTestDatabase('clienv');
  });
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('validate: the provisions read, and every input error with its reason, in file and document order', async () => {
    const ok = envelopeOf('validate', await runCli(['validate', '-f', file, '-o', 'json']));
    expect(ok).toEqual({
      command: 'validate',
      ok: true,
      provisions: [{ id: 'team/one', file, document: 1, valid: true }],
      errors: [],
    });
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, `${provisionYaml('one', { models: ['cdm.work.sprint'] })}---\n[1, 2\n`);
    const failed = envelopeOf('validate', await runCli(['validate', '-f', bad, '-o', 'json']));
    expect(failed.provisions).toEqual([{ id: 'ns/one', file: bad, document: 1, valid: false }]);
    expect(failed.errors).toEqual([
      {
        provision: 'ns/one',
        file: bad,
        document: 1,
        path: 'spec.models[0]',
        reason: 'UnsupportedModel',
        message: expect.stringMatching(/^unsupported model; /),
      },
      {
        provision: null,
        file: bad,
        document: 2,
        path: null,
        reason: 'InvalidManifest',
        message: expect.stringMatching(/^invalid YAML: /),
      },
    ]);
  });

  it('plan: each provision with its database, plan and error; a plan that cannot be made is an error', async () => {
    const ok = envelopeOf('plan', await runCli(['plan', '-f', file, '--database-url', db.url, '-o', 'json']));
    expect(ok.errors).toEqual([]);
    expect(ok.provisions).toEqual([
      {
        id: 'team/one',
        file,
        document: 1,
        valid: true,
        database: { source: 'flag' },
        plan: expect.objectContaining({ steps: expect.any(Array) }),
        error: null,
      },
    ]);
    const result = await runCli(['plan', '-f', file, '--database-url', UNREACHABLE, '-o', 'json']);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).not.toContain('S3cr3t-Pa55');
    const failed = envelopeOf('plan', result);
    expect(failed.provisions[0]).toMatchObject({
      plan: null,
      error: { reason: 'ConnectionFailed', message: expect.stringContaining('127.0.0.1:1') },
    });
    expect(failed.errors).toEqual([
      {
        provision: 'team/one',
        file,
        document: 1,
        path: null,
        reason: 'ConnectionFailed',
        message: (failed.provisions[0]!.error as { message: string }).message,
      },
    ]);
  });

  it('apply: each provision with its status; one that is not Ready is an error', async () => {
    const ok = envelopeOf(
      'apply',
      await runCli(['apply', '-f', file, '--database-url', db.url, '-o', 'json']),
    );
    expect(ok.provisions).toEqual([
      {
        id: 'team/one',
        file,
        document: 1,
        valid: true,
        ready: true,
        statementsApplied: expect.any(Number),
        database: { source: 'flag' },
        status: expect.objectContaining({ conditions: expect.any(Array) }),
        plan: expect.objectContaining({ steps: expect.any(Array) }),
      },
    ]);
    const failed = envelopeOf(
      'apply',
      await runCli(['apply', '-f', file, '--database-url', UNREACHABLE, '-o', 'json']),
    );
    expect(failed.provisions[0]).toMatchObject({ ready: false, statementsApplied: 0 });
    expect(failed.errors).toEqual([
      {
        provision: 'team/one',
        file,
        document: 1,
        path: null,
        reason: 'ConnectionFailed',
        message: expect.stringContaining('127.0.0.1:1'),
      },
    ]);
  });

  it('plan and apply of an invalid input list the provisions read, with nothing planned or applied', async () => {
    const missing = path.join(dir, 'missing.yaml');
    for (const command of ['plan', 'apply']) {
      const result = await runCli([
        command,
        '-f',
        file,
        '-f',
        missing,
        '--database-url',
        db.url,
        '-o',
        'json',
      ]);
      expect(result.code).toBe(1);
      const envelope = envelopeOf(command, result);
      expect(envelope.provisions).toEqual([
        expect.objectContaining({ id: 'team/one', valid: true, database: null, plan: null }),
      ]);
      expect(envelope.errors).toEqual([
        expect.objectContaining({
          file: missing,
          reason: 'InvalidManifest',
          message: 'no such file or directory',
        }),
      ]);
    }
  });

  it('usage errors print the envelope too when the arguments ask for JSON, in every spelling', async () => {
    for (const json of [['-o', 'json'], ['-ojson'], ['--output', 'json'], ['--output=json']]) {
      const result = await runCli(['plan', '-f', file, '--bogus', ...json]);
      expect(result.code, json.join(' ')).toBe(2);
      expect(result.stderr).toContain('Usage: cdm-sink plan');
      expect(JSON.parse(result.stdout), json.join(' ')).toEqual({
        command: 'plan',
        ok: false,
        provisions: [],
        errors: [
          {
            provision: null,
            file: null,
            document: null,
            path: null,
            reason: 'UsageError',
            message: 'unknown flag --bogus',
          },
        ],
      });
    }
    const unknown = await runCli(['frobnicate', '-o', 'json']);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toMatchObject({
      command: null,
      ok: false,
      errors: [{ reason: 'UsageError', message: 'unknown command "frobnicate"' }],
    });
    const text = await runCli(['plan', '-f', file, '--bogus']);
    expect(text.code).toBe(2);
    expect(text.stdout).toBe('');
  });
});
