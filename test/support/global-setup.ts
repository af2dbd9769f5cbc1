import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedServer } from '../../src/postgres/embedded-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

/**
 * Starts one embedded Postgres for the whole run (or uses TEST_DATABASE_URL). `log_statement = 'ddl'`
 * lets tests count DDL from the server's own log instead of trusting our code.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('databaseUrl', external);
    return async () => {};
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-test-'));
  // mkdtemp makes a 0700 directory; the postgres system user must be able to enter it.
  await chmod(tmp, 0o755);
  const dataDir = path.join(tmp, 'pg');
  const server = await startEmbeddedServer({
    dataDir,
    persistent: false,
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
  });
  project.provide('databaseUrl', server.url);
  // Each project of the run (vitest.config.ts) has its own server, stopped by its own teardown.
  return () => server.stop();
}
