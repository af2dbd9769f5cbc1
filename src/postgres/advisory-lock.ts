import { classifyDbError, isLockTimeout } from './db-errors.js';
import type { Queryable } from './queryable.js';

/**
 * The session advisory lock every applier of a sink schema takes (apply and finalize alike), so two
 * controllers, or a controller and a CLI, never interleave DDL on one schema. The first key says
 * "cdm-sink-operator", the second is the schema name; `$1` is the schema.
 */
export const SCHEMA_LOCK_SQL =
  "SELECT pg_catalog.pg_advisory_lock(pg_catalog.hashtext('cdm-sink-operator'), pg_catalog.hashtext($1))";
export const SCHEMA_UNLOCK_SQL =
  "SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtext('cdm-sink-operator'), pg_catalog.hashtext($1))";

/**
 * Takes the schema's advisory lock on this session, waiting at most `timeoutMs`. A wait that times out
 * throws a `LockTimeout` `OperatorError` saying another applier holds the schema (the session stays
 * usable); any other failure is rethrown as it came.
 */
export async function lockSchema(client: Queryable, schema: string, timeoutMs: number): Promise<void> {
  try {
    await client.query({ text: `SET lock_timeout = '${Math.max(1, Math.round(timeoutMs))}ms'` });
    await client.query({ text: SCHEMA_LOCK_SQL, values: [schema] });
    await client.query({ text: 'RESET lock_timeout' });
  } catch (error) {
    if (!isLockTimeout(error)) throw error;
    throw classifyDbError(
      error,
      `another applier holds schema ${schema} (advisory lock) for longer than ${timeoutMs} ms`,
    );
  }
}
