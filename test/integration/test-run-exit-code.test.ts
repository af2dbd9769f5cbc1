import { execFile } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO } from '../support/cli.js';

/**
 * CI trusts `npm test`'s exit code. The embedded Postgres package exits with 0 on `beforeExit`, which
 * once turned every failed run of this suite into a success.
 */
/** Exit code of a test run of one check file (passing or failing) with the suite's global setup. */
function runCheck(check: 'passes.check.ts' | 'fails.check.ts'): Promise<number | null> {
  const config = path.join(REPO, 'test/fixtures/exit-code-run/vitest.config.ts');
  const { TEST_DATABASE_URL: _external, ...env } = process.env;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(REPO, 'node_modules/vitest/vitest.mjs'), 'run', '--config', config],
      { cwd: REPO, env: { ...env, EXIT_CODE_CHECK: check } },
      (error) => resolve(error ? (typeof error.code === 'number' ? error.code : null) : 0),
    );
  });
}

it('a test run with the embedded Postgres exits 1 when a test fails and 0 when all pass', async () => {
  expect(await runCheck('fails.check.ts')).toBe(1);
  // Its exit hook also threw at the end of every run once the first was removed.
  expect(await runCheck('passes.check.ts')).toBe(0);
}, 120_000);
