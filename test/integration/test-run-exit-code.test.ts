import { execFile } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO } from '../support/cli.js';

/**
 * CI trusts `npm test`'s exit code. The embedded Postgres package exits with 0 on `beforeExit`, which
 * once turned every failed run of this suite into a success.
 */
it('a test run with the embedded Postgres and a failing test exits non-zero', async () => {
  const config = path.join(REPO, 'test/fixtures/failing-run/vitest.config.ts');
  const { TEST_DATABASE_URL: _external, ...env } = process.env;
  const code = await new Promise<number | null>((resolve) => {
    execFile(
      process.execPath,
      [path.join(REPO, 'node_modules/vitest/vitest.mjs'), 'run', '--config', config],
      { cwd: REPO, env },
      (error) => resolve(error ? (typeof error.code === 'number' ? error.code : null) : 0),
    );
  });
  expect(code).toBe(1);
}, 120_000);
