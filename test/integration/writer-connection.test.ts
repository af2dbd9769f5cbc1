import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workItemRows } from '../../bench/writer/rows.js';
import { CdmSinkWriter, ConnectionFailedError } from '../../src/writer/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * Failing to reach the database before the first batch: a typed, classified error naming
 * host:port/database and what to check, never the password or the URL.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('writer_conn');
});
afterAll(async () => {
  await db.drop();
});

const PASSWORD_MARK = 'n0t-the-Passw0rd';

function writerAt(url: URL): CdmSinkWriter {
  return CdmSinkWriter.fromEndpoint({
    templateId: 'cdm.jdbc',
    parameters: { connection_url: url.toString() },
  });
}

async function failure(url: URL): Promise<ConnectionFailedError> {
  const writer = writerAt(url);
  try {
    const error = await writer.assertProvisioned().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionFailedError);
    // write() checks first, so it fails the same way before reading a row.
    const fromWrite = await writer.write('cdm.work.item', workItemRows(3)).catch((e: unknown) => e);
    expect(fromWrite).toBeInstanceOf(ConnectionFailedError);
    const connectionFailed = error as ConnectionFailedError;
    expect(connectionFailed.reason).toBe('ConnectionFailed');
    expect(connectionFailed.cause).toBeInstanceOf(Error);
    expect(connectionFailed.message).not.toContain(url.password);
    expect(connectionFailed.message).not.toContain(url.toString());
    expect(connectionFailed.message).not.toContain('postgres://');
    return connectionFailed;
  } finally {
    await writer.close();
  }
}

describe('connection failures before the first batch', () => {
  it('a refused port: ConnectionFailedError, retryable, naming host:port/database', async () => {
    const url = new URL(db.url);
    url.port = '1';
    url.password = PASSWORD_MARK;
    const error = await failure(url);
    expect(error).toMatchObject({
      code: 'ECONNREFUSED',
      retryable: true,
      target: `${url.hostname}:1/${db.name}`,
    });
    expect(error.message).toContain(
      `cannot connect to the sink database ${url.hostname}:1/${db.name} [ECONNREFUSED]`,
    );
    expect(error.message).toContain('Postgres is running and reachable');
  });

  it('a wrong password: not retryable (28P01), pointing at the credentials', async () => {
    const url = new URL(db.url);
    url.password = PASSWORD_MARK;
    const error = await failure(url);
    expect(error).toMatchObject({
      code: '28P01',
      retryable: false,
      target: `${url.hostname}:${url.port}/${db.name}`,
    });
    expect(error.message).toContain('Check the user and password');
  });

  it('an unknown database: not retryable (3D000), pointing at the database name', async () => {
    const url = new URL(db.url);
    url.pathname = '/no_such_database';
    const error = await failure(url);
    expect(error).toMatchObject({
      code: '3D000',
      retryable: false,
      target: `${url.hostname}:${url.port}/no_such_database`,
    });
    expect(error.message).toContain('Check the database name');
    expect(error.message).not.toContain(new URL(db.url).password);
  });
});
