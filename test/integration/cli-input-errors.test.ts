import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase, installDdlAudit, type TestDatabase } from '../support/database.js';
import type { Envelope } from '../support/envelope.js';
import { provisionYaml } from '../support/manifest-text.js';

/** A TCP server that only counts connections: proof that a command never tried to reach a database. */
async function connectionCounter(): Promise<{ url: string; count(): number; close(): Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `postgresql://cdm:pw@127.0.0.1:${port}/sink`,
    count: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const inputLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('invalid '));

describe('cdm-sink input errors (subprocess)', () => {
  let dir: string;
  let good: string;
  let broken: string;
  let invalidSpec: string;
  let missing: string;
  let sink: TestDatabase;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-input-'));
    // As a checkout would be: readable by the postgres system user an embedded server would run as.
    await chmod(dir, 0o755);
    good = path.join(dir, 'good.yaml');
    broken = path.join(dir, 'broken.yaml');
    invalidSpec = path.join(dir, 'invalid-spec.yaml');
    missing = path.join(dir, 'missing.yaml');
    await writeFile(good, provisionYaml('good'));
    await writeFile(broken, `${provisionYaml('broken')}  catalog: { labels: [unclosed\n`);
    await writeFile(invalidSpec, provisionYaml('unsupported', { models: ['cdm.work.sprint'] }));
    sink = await createTestDatabase('cliinput');
  });
  afterAll(async () => {
    await sink.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const CASES = () => [
    { name: 'a missing file', args: ['-f', missing] },
    { name: 'a YAML syntax error', args: ['-f', broken] },
    { name: 'a good file and a broken one', args: ['-f', good, '-f', broken] },
    { name: 'a good file and an invalid spec', args: ['-f', good, '-f', invalidSpec] },
  ];

  it('validate names the file once: "invalid missing.yaml: no such file or directory"', async () => {
    const result = await runCli(['validate', '-f', missing]);
    expect(result.code).toBe(1);
    expect(inputLines(result.stderr)).toEqual([`invalid ${missing}: no such file or directory`]);
  });

  it('plan and apply report every input error exactly as validate does, exit 1 and never connect', async () => {
    const counter = await connectionCounter();
    try {
      for (const { name, args } of CASES()) {
        const validate = await runCli(['validate', ...args]);
        expect(validate.code, name).toBe(1);
        const expected = inputLines(validate.stderr);
        expect(expected.length, `${name}: ${validate.stderr}`).toBeGreaterThan(0);
        const validateJson = JSON.parse(
          (await runCli(['validate', ...args, '-o', 'json'])).stdout,
        ) as Envelope;
        expect(validateJson.errors.length, name).toBe(expected.length);
        for (const command of ['plan', 'apply']) {
          const text = await runCli([command, ...args, '--database-url', counter.url]);
          expect(text.code, `${command}, ${name}: ${text.stderr}`).toBe(1);
          expect(inputLines(text.stderr), `${command}, ${name}`).toEqual(expected);
          expect(text.stdout, `${command}, ${name}`).toBe('');
          const json = await runCli([command, ...args, '--database-url', counter.url, '-o', 'json']);
          expect(json.code, `${command} -o json, ${name}`).toBe(1);
          const envelope = JSON.parse(json.stdout) as Envelope;
          expect(envelope.command).toBe(command);
          expect(envelope.ok).toBe(false);
          expect(envelope.errors, `${command} -o json, ${name}`).toEqual(validateJson.errors);
        }
      }
      expect(counter.count()).toBe(0);
    } finally {
      await counter.close();
    }
  });

  it('apply -f good.yaml -f broken.yaml runs no DDL on a real database and says why it stopped', async () => {
    const audit = await installDdlAudit(sink.pool);
    await audit.reset();
    const result = await runCli(['apply', '-f', good, '-f', broken, '--database-url', sink.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`invalid ${broken} (document 1): invalid YAML: `);
    expect(result.stderr).toMatch(/nothing was applied/);
    expect(await audit.commands()).toEqual([]);
    const { rows } = await sink.pool.query("SELECT 1 FROM pg_namespace WHERE nspname = 'cdm_work'");
    expect(rows).toEqual([]);
  });

  it('with no database URL, plan and apply of a bad input never start the embedded Postgres', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-input-embedded-'));
    try {
      for (const command of ['plan', 'apply']) {
        const result = await runCli([command, '-f', good, '-f', missing], { cwd });
        expect(result.code, command).toBe(1);
        expect(result.stderr, command).not.toMatch(/embedded/);
      }
      expect(existsSync(path.join(cwd, '.cdm-sink'))).toBe(false);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('no CdmSinkProvision in the input is an error for every command, with the ignored documents counted', async () => {
    const others = path.join(dir, 'others.yaml');
    await writeFile(
      others,
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n---\napiVersion: v1\nkind: Secret\nmetadata: { name: b }\n---\n# only a comment\n',
    );
    const empty = path.join(dir, 'empty.yaml');
    await writeFile(empty, '');
    const message =
      'no CdmSinkProvision found in the given manifests (2 documents of other kinds ignored: ConfigMap, Secret)';
    const counter = await connectionCounter();
    try {
      for (const command of ['validate', 'plan', 'apply']) {
        const args = [command, '-f', others, '-f', empty, '--database-url', counter.url];
        if (command === 'validate') args.splice(-2);
        const text = await runCli(args);
        expect(text.code, command).toBe(1);
        expect(text.stderr, command).toContain(`error: ${message}`);
        const json = await runCli([...args, '-o', 'json']);
        expect(json.code, command).toBe(1);
        expect(JSON.parse(json.stdout), command).toEqual({
          command,
          ok: false,
          provisions: [],
          errors: [
            { provision: null, file: null, document: null, path: null, reason: 'NoProvisions', message },
          ],
        });
      }
      const none = await runCli(['validate', '-f', empty]);
      expect(none.stderr).toContain(
        'error: no CdmSinkProvision found in the given manifests (they hold no YAML documents)',
      );
      expect(counter.count()).toBe(0);
    } finally {
      await counter.close();
    }
  });

  it('validate --allow-no-provisions accepts input without a CdmSinkProvision, and still checks the rest', async () => {
    // A pull-request check hands validate every changed manifest; a change holding no provision passes.
    const others = path.join(dir, 'only-others.yaml');
    await writeFile(others, 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: worker }\n');
    const text = await runCli(['validate', '--allow-no-provisions', '-f', others]);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('0 provision(s) valid\n');
    expect(text.stderr).toBe(
      'note: no CdmSinkProvision found in the given manifests (1 document of another kind ignored: Deployment)\n',
    );
    const json = await runCli(['validate', '--allow-no-provisions', '-f', others, '-o', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ command: 'validate', ok: true, provisions: [], errors: [] });

    // Everything else is still an error: a broken file, an invalid provision.
    const broken = path.join(dir, 'broken.yaml');
    await writeFile(broken, 'kind: [unclosed\n');
    const invalid = await runCli(['validate', '--allow-no-provisions', '-f', others, '-f', broken]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('broken.yaml');

    // Only validate takes it: plan and apply with nothing to do is a mistake worth stopping on.
    const plan = await runCli(['plan', '--allow-no-provisions', '-f', others]);
    expect(plan.code).toBe(2);
    expect(plan.stderr).toMatch(/--allow-no-provisions/);
  });
});
