import { LOGICAL_TYPES, type ModelSpec } from '../models/index.js';
import { checkOut } from '../postgres/check-out.js';
import { ConnectionFailedError, type ProvisioningProblem } from './errors.js';
import { classifyFailure, errorCode } from './retry.js';
import type { WriterPool, WriterPoolClient } from './writer-pool.js';

/**
 * Is every table the writer needs there, with every column of its model at the right type and a unique
 * key on `cdm_id` (which `ON CONFLICT (cdm_id)` needs)? One read-only catalog query for any number of
 * models; it takes no lock on user tables and never creates anything.
 */

/** The minimal query port this check needs (a `pg.Pool` or client satisfies it). */
export interface Queryable {
  query<R extends object>(text: string, values: unknown[]): Promise<{ rows: R[] }>;
}

export interface ExpectedTable {
  readonly model: ModelSpec;
  readonly schema: string;
  readonly table: string;
}

// One row per column of each requested table that exists; a table without columns still yields one
// row (LEFT JOIN), so "table exists" and "column exists" are both answered by the same query.
const PROVISIONED_COLUMNS_SQL = `
SELECT c.relname::text AS table_name,
       a.attname::text AS column_name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS column_type,
       -- ON CONFLICT (cdm_id) needs a valid, non-partial unique index on exactly that column.
       EXISTS (
         SELECT 1
         FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_attribute k ON k.attrelid = i.indrelid AND k.attnum = i.indkey[0]
         WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid AND i.indnkeyatts = 1
           AND i.indpred IS NULL AND i.indexprs IS NULL AND k.attname = 'cdm_id'
       ) AS has_key
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
-- Only live user columns; dropped columns keep a pg_attribute row.
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = $1::text
  AND c.relname = ANY($2::text[])
  AND c.relkind IN ('r', 'p')
ORDER BY c.relname, a.attnum`;

interface RawColumnRow {
  table_name: string;
  column_name: string | null;
  column_type: string | null;
  has_key: boolean;
}

/** Problems found; empty when every table is ready for the writer. All tables must share one schema. */
export async function provisioningProblems(
  db: Queryable,
  tables: readonly ExpectedTable[],
): Promise<ProvisioningProblem[]> {
  if (tables.length === 0) return [];
  const schema = tables[0]!.schema;
  const { rows } = await db.query<RawColumnRow>(PROVISIONED_COLUMNS_SQL, [
    schema,
    tables.map((t) => t.table),
  ]);
  const found = new Map<string, { columns: Map<string, string>; hasKey: boolean }>();
  for (const row of rows) {
    const entry = found.get(row.table_name) ?? { columns: new Map(), hasKey: row.has_key };
    if (row.column_name !== null && row.column_type !== null)
      entry.columns.set(row.column_name, row.column_type);
    found.set(row.table_name, entry);
  }
  return tables.flatMap(({ model, table }): ProvisioningProblem[] => {
    const qualifiedName = `${schema}.${table}`;
    const actual = found.get(table);
    if (!actual) return [{ modelId: model.id, object: qualifiedName, problem: 'missing table' }];
    const problems: ProvisioningProblem[] = [];
    for (const field of model.fields) {
      const expected = LOGICAL_TYPES[field.type].formattedType;
      const type = actual.columns.get(field.name);
      const object = `${qualifiedName}.${field.name}`;
      if (type === undefined) problems.push({ modelId: model.id, object, problem: 'missing column' });
      else if (type !== expected) {
        problems.push({ modelId: model.id, object, problem: `type is ${type}, expected ${expected}` });
      }
    }
    if (!actual.hasKey && actual.columns.has('cdm_id')) {
      problems.push({ modelId: model.id, object: qualifiedName, problem: 'no unique key on cdm_id' });
    }
    return problems;
  });
}

/** What to check for a connection failure, by its code (SQLSTATE or Node's). */
function connectionHint(code: string | undefined): string {
  if (code?.startsWith('28')) return 'the user and password the writer connects with (and pg_hba.conf)';
  if (code === '3D000') return 'the database name (it must exist; the writer never creates it)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name (DNS)';
  if (code === '53300') return "the server's max_connections and the pools connecting to it";
  if (code === '57P03') return 'that the server has finished starting up';
  return 'that Postgres is running and reachable on that host and port (firewalls, network policies)';
}

function connectionFailed(target: string, error: unknown, connectionLost: boolean): ConnectionFailedError {
  const code = errorCode(error);
  const retryable = classifyFailure(error, connectionLost) === 'transient';
  return new ConnectionFailedError(target, code, retryable, connectionHint(code), error);
}

/**
 * `provisioningProblems` on a connection of `pool`. Failing to connect (refused, unknown host,
 * authentication, unknown database, …) or losing the connection during the query is a
 * `ConnectionFailedError` naming `target` (`host:port/database`); any other error is the server's own.
 */
export async function checkProvisioned(
  pool: WriterPool,
  tables: readonly ExpectedTable[],
  target: string,
): Promise<ProvisioningProblem[]> {
  let connectionLost = false;
  const onLost = () => {
    connectionLost = true;
  };
  let client: WriterPoolClient;
  try {
    client = await checkOut(pool, onLost);
  } catch (error) {
    // Connecting only fails for connection reasons. Without a code, pg lost the connection on the
    // way (closed during start-up, connect timeout): worth another try.
    throw connectionFailed(target, error, errorCode(error) === undefined);
  }
  try {
    const problems = await provisioningProblems(
      {
        query: <R extends object>(text: string, values: unknown[]) =>
          client.query<R>({ name: 'cdm_writer_provisioned_check', text, values }),
      },
      tables,
    );
    client.off('error', onLost);
    client.off('end', onLost);
    client.release();
    return problems;
  } catch (error) {
    client.release(true);
    if (connectionLost) throw connectionFailed(target, error, true);
    throw error;
  }
}
