import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO } from '../support/cli.js';
import { traceModuleLoads } from '../support/module-trace.js';
import { writerImportReport } from '../support/writer-import-policy.js';

// The installed package's dist/ is held to the same policy by test/package/tarball.test.ts.
it('importing the writer loads pg, pg-copy-streams and ajv, and nothing of the operator', async () => {
  const loaded = await traceModuleLoads('./src/writer/index.ts', { cwd: REPO, tsx: true });
  expect(writerImportReport(loaded, path.join(REPO, 'src'))).toEqual({
    missing: [],
    forbidden: [],
    foreign: [],
    loadedEntry: true,
  });
});
