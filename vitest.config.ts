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
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Integration tests share one embedded Postgres; each file gets its own database.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Never let a forgotten .only or .skip pass CI silently.
    allowOnly: false,
  },
});
