import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `cdm-sink-operator/writer` (the examples import it like a user) resolves to the sources in tests, as
  // tsconfig.json's `paths` say, never to a dist/ build that may be stale or, during the packaging test,
  // half rewritten.
  resolve: {
    alias: [
      {
        find: /^cdm-sink-operator\/writer$/,
        replacement: path.resolve(import.meta.dirname, 'src/writer/index.ts'),
      },
      { find: /^cdm-sink-operator$/, replacement: path.resolve(import.meta.dirname, 'src/index.ts') },
    ],
  },
  test: {
    // Integration tests share one embedded Postgres; each file gets its own database.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Never let a forgotten .only or .skip pass CI silently.
    allowOnly: false,
    projects: [
      {
        extends: true,
        test: {
          name: 'local',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: ['test/cluster/**', '**/node_modules/**'],
          globalSetup: ['test/support/global-setup.ts', 'test/support/local-tools-setup.ts'],
        },
      },
      {
        // Against a real kube-apiserver + etcd (test/support/control-plane/), started once for the run
        // and built from Go modules first if the cache is empty. Its files run one at a time, after the
        // local ones: they stop and restart API servers, compact etcd, kill controllers and time lease
        // takeovers, which 2 cores shared with a dozen other test files would only make flaky.
        extends: true,
        test: {
          name: 'cluster',
          sequence: { groupOrder: 1 },
          include: ['test/cluster/**/*.test.ts'],
          globalSetup: [
            'test/support/global-setup.ts',
            'test/support/control-plane/global-setup.ts',
            'test/support/tools-global-setup.ts',
          ],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
