import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { workItemRows } from '../../bench/writer/rows.js';
import { defaultRegistry } from '../../src/models/index.js';
import { withDedicatedClient } from '../../src/postgres/dedicated-client.js';
import { createPoolProvider, reconcile } from '../../src/reconcile/index.js';
import { BatchWriteError, CdmSinkWriter } from '../../src/writer/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { provisionTables } from '../support/provision.js';
import { condition, provisionFixture } from '../support/provision-fixture.js';
import {
  startTerminateAtStartupProxy,
  type TerminateAtStartupProxy,
} from '../support/terminate-at-startup-proxy.js';

/**
 * A backend terminated just as its connection is handed out (the CI failure of the controller
 * fault test: "terminating connection due to administrator command" as an uncaught exception).
 * node-postgres reports the FATAL on the client before an `await pool.connect()` continuation can add
 * an 'error' listener; an 'error' event without a listener ends the process. Every checkout must
 * survive it and turn it into an ordinary, retryable failure.
 */
let db: TestDatabase;
let proxy: TerminateAtStartupProxy;
const uncaught: unknown[] = [];
const recordUncaught = (error: unknown) => uncaught.push(error);

beforeAll(async () => {
  db = await createTestDatabase('checkout_race');
  await provisionTables(db.pool, { schema: 'race', tablePrefix: 'cdm_', sinkId: 'ns/race' }, [
    defaultRegistry.get('cdm.work.item'),
  ]);
});
afterAll(async () => {
  await db.drop();
});
beforeEach(async () => {
  uncaught.length = 0;
  process.on('uncaughtException', recordUncaught);
  proxy = await startTerminateAtStartupProxy(db.url);
});
afterEach(async () => {
  await proxy.close();
  process.off('uncaughtException', recordUncaught);
});

/** Lets the socket events of the terminated connections run before looking for uncaught errors. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

describe('a backend terminated as its connection is checked out', () => {
  it("the operator's session checkout fails that one attempt, without an uncaught error", async () => {
    const pools = createPoolProvider();
    try {
      await expect(
        withDedicatedClient(pools.get(proxy.url), (client) => client.query('SELECT 1')),
      ).rejects.toThrow();
      await settle();
      expect(proxy.terminated()).toBeGreaterThan(0);
      expect(uncaught).toEqual([]);
    } finally {
      await pools.end();
    }
  });

  it('a reconcile against it reports ConnectionFailed, without an uncaught error', async () => {
    const pools = createPoolProvider();
    try {
      const provision = provisionFixture('race', {
        endpoint: { schema: 'race2', tablePrefix: 'cdm_' },
        models: ['cdm.work.item'],
      });
      const result = await reconcile(provision, {
        resolveDatabaseUrl: async () => proxy.url,
        pools,
        now: () => new Date('2026-01-01T00:00:00Z'),
      });
      expect(condition(result, 'Ready')?.reason).toBe('ConnectionFailed');
      await settle();
      expect(uncaught).toEqual([]);
    } finally {
      await pools.end();
    }
  });

  it.each([
    ['its own pool (connection_url)', 'owned'],
    ["the caller's pg.Pool", 'borrowed'],
  ] as const)(
    'the writer with %s retries and then fails with a transient BatchWriteError, without an uncaught error',
    async (_, kind) => {
      const pool = kind === 'borrowed' ? new pg.Pool({ connectionString: proxy.url, max: 2 }) : undefined;
      pool?.on('error', () => {});
      const retry = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 };
      const writer = pool
        ? new CdmSinkWriter({ pool, schema: 'race', retry })
        : CdmSinkWriter.fromEndpoint(
            {
              templateId: 'cdm.jdbc',
              parameters: { connection_url: proxy.url, schema: 'race', table_prefix: 'cdm_' },
            },
            { retry },
          );
      try {
        // The first write checks that the tables are provisioned, on a connection that lives; then every
        // new connection is terminated as it is handed out.
        proxy.terminating = false;
        await writer.write('cdm.work.item', workItemRows(10));
        proxy.dropConnections();
        proxy.terminating = true;
        await settle();
        const error = await writer.write('cdm.work.item', workItemRows(10)).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(BatchWriteError);
        expect((error as BatchWriteError).retryable).toBe(true);
        await settle();
        expect(uncaught).toEqual([]);
      } finally {
        await writer.close();
        await pool?.end();
      }
    },
  );
});
