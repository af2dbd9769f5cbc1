import type { Queryable } from './queryable.js';

/** A session that holds a lock others wait for, as `pg_locks` and `pg_stat_activity` show it. */
export interface LockHolder {
  readonly relation: string;
  readonly pid: number;
  readonly mode: string;
  readonly state: string | null;
  readonly transactionAgeSeconds: number | null;
}

/**
 * Sessions holding a lock in one of the `modes` (any mode when `null`) on the named tables or their
 * indexes, for error messages that say who to look at. Reads only views that take no lock, so it cannot
 * wait itself.
 */
export async function lockHolders(
  db: Queryable,
  schema: string,
  tables: readonly string[],
  modes: readonly string[] | null,
): Promise<LockHolder[]> {
  const { rows } = await db.query<LockHolder>({
    text: `WITH target AS (
       SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = ANY ($2::text[])
     )
     SELECT DISTINCT ON (l.pid) n.nspname || '.' || c.relname AS relation, l.pid, l.mode, a.state,
       extract(epoch FROM now() - a.xact_start)::int AS "transactionAgeSeconds"
     FROM pg_catalog.pg_locks l
     JOIN pg_catalog.pg_class c ON c.oid = l.relation
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
     WHERE l.granted AND l.pid <> pg_catalog.pg_backend_pid() AND ($3::text[] IS NULL OR l.mode = ANY ($3::text[]))
       AND (l.relation IN (SELECT oid FROM target)
            OR l.relation IN (SELECT i.indexrelid FROM pg_catalog.pg_index i WHERE i.indrelid IN (SELECT oid FROM target)))
     ORDER BY l.pid`,
    values: [schema, [...tables], modes ? [...modes] : null],
  });
  return rows;
}

/**
 * The oldest open transactions of the current database: what `CREATE INDEX CONCURRENTLY` waits for
 * (every transaction whose snapshot predates the build, on any table).
 */
export async function oldestTransactions(
  db: Queryable,
  limit = 3,
): Promise<Omit<LockHolder, 'relation' | 'mode'>[]> {
  const { rows } = await db.query<Omit<LockHolder, 'relation' | 'mode'>>({
    text: `SELECT pid, state, extract(epoch FROM now() - xact_start)::int AS "transactionAgeSeconds"
     FROM pg_catalog.pg_stat_activity
     WHERE datname = pg_catalog.current_database() AND pid <> pg_catalog.pg_backend_pid()
       AND xact_start IS NOT NULL AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)
     ORDER BY xact_start LIMIT $1`,
    values: [limit],
  });
  return rows;
}

/** `pid 123 (idle in transaction, transaction open 95 s)` */
export function describeSession(session: Omit<LockHolder, 'relation' | 'mode'> & { mode?: string }): string {
  const details = [
    session.state ?? 'unknown state',
    ...(session.transactionAgeSeconds !== null
      ? [`transaction open ${session.transactionAgeSeconds} s`]
      : []),
    ...(session.mode ? [session.mode] : []),
  ];
  return `pid ${session.pid} (${details.join(', ')})`;
}
