import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from '../support/cli.js';

const EXAMPLES = path.join(REPO, 'manifests/examples');

describe('cdm-sink usage, help and version (subprocess)', () => {
  it('--version and `version` print the version from package.json; -o json as an object', async () => {
    const { version } = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8'));
    for (const args of [['--version'], ['version']]) {
      const result = await runCli(args);
      expect(result, args[0]).toEqual({ code: 0, stdout: `cdm-sink ${version}\n`, stderr: '' });
      const json = await runCli([...args, '-o', 'json']);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({ version });
    }
  });

  it('each command has its own help: its flags and examples, on stdout, exit 0', async () => {
    for (const command of ['validate', 'plan', 'apply']) {
      for (const args of [
        [command, '--help'],
        [command, '-h'],
        ['help', command],
      ]) {
        const result = await runCli(args);
        expect(result.code, args.join(' ')).toBe(0);
        expect(result.stderr).toBe('');
        expect(result.stdout, args.join(' ')).toMatch(new RegExp(`^Usage: cdm-sink ${command} `));
        expect(result.stdout).toContain('-f, --filename');
        expect(result.stdout).toContain('Examples:');
        expect(result.stdout).toContain(`  cdm-sink ${command} -f `);
      }
    }
    const plan = (await runCli(['plan', '--help'])).stdout;
    expect(plan).toContain('--database-url');
    const validate = (await runCli(['validate', '--help'])).stdout;
    expect(validate).not.toContain('--database-url');
  });

  it('the global help lists every command on stdout, exit 0; no command at all is a usage error', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const result = await runCli(args);
      expect(result.code, args[0]).toBe(0);
      for (const command of ['validate', 'plan', 'apply', 'controller', 'version'])
        expect(result.stdout).toContain(command);
    }
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('Usage: cdm-sink <command>');
  });

  it('a usage error prints the usage of the command it is about, exit 2', async () => {
    const cases = [
      {
        args: ['plan', '-f', EXAMPLES, '--bogus'],
        usage: 'Usage: cdm-sink plan',
        message: 'unknown flag --bogus',
      },
      { args: ['apply'], usage: 'Usage: cdm-sink apply', message: 'no manifests given' },
      {
        args: ['validate', '-f', EXAMPLES, '--database-url', 'postgresql://x'],
        usage: 'Usage: cdm-sink validate',
        message: 'unknown flag --database-url',
      },
      {
        args: ['validate', '-f', EXAMPLES, '-o', 'yaml'],
        usage: 'Usage: cdm-sink validate',
        message: '--output',
      },
      { args: ['frobnicate'], usage: 'Usage: cdm-sink <command>', message: 'unknown command "frobnicate"' },
      {
        args: ['help', 'frobnicate'],
        usage: 'Usage: cdm-sink <command>',
        message: 'unknown command "frobnicate"',
      },
    ];
    for (const { args, usage, message } of cases) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout, args.join(' ')).toBe('');
      expect(result.stderr, args.join(' ')).toContain(`cdm-sink: ${message}`);
      expect(result.stderr, args.join(' ')).toContain(usage);
    }
  });
});
