import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  readonly pool: pg.Pool;
  /** Drops the database after closing our pool. */
  drop(): Promise<void>;
}

/** The server URL the global setup provides (embedded Postgres, or TEST_DATABASE_URL). */
export function serverUrl(): string {
  return inject('databaseUrl');
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database of its own for one test file or test; isolation without mocks. */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = withDatabase(serverUrl(), name);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // Terminated backends (fault-injection tests) surface as pool errors; they must not crash the run.
  pool.on('error', () => {});
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/**
 * Records every DDL command the server runs in this database, via an event trigger: an independent
 * witness of what our code sent, not our own bookkeeping.
 */
export async function installDdlAudit(
  pool: pg.Pool,
): Promise<{ commands(): Promise<string[]>; reset(): Promise<void> }> {
  await pool.query(`
    CREATE SCHEMA IF NOT EXISTS test_audit;
    CREATE TABLE IF NOT EXISTS test_audit.ddl (id bigserial PRIMARY KEY, tag text NOT NULL, query text);
    CREATE OR REPLACE FUNCTION test_audit.record_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO test_audit.ddl (tag, query) VALUES (tg_tag, current_query());
    END $$;
    DROP EVENT TRIGGER IF EXISTS test_audit_ddl;
    CREATE EVENT TRIGGER test_audit_ddl ON ddl_command_start EXECUTE FUNCTION test_audit.record_ddl();
  `);
  return {
    async commands() {
      const { rows } = await pool.query<{ tag: string }>('SELECT tag FROM test_audit.ddl ORDER BY id');
      return rows.map((r) => r.tag);
    },
    async reset() {
      await pool.query('TRUNCATE test_audit.ddl');
    },
  };
}
