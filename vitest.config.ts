import { defineConfig } from 'vitest/config';

export default defineConfig({
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
