import pg from 'pg';

export interface PoolProvider {
  get(url: string): pg.Pool;
  end(): Promise<void>;
}

export interface PoolProviderOptions {
  readonly max?: number;
  readonly connectionTimeoutMs?: number;
  /**
   * Session defaults of every connection, so no query of a reconcile (observation and catalog reads
   * included) can wait forever behind a table lock or a stuck server. Apply overrides them per statement.
   */
  readonly lockTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
}

const DEFAULT_QUERY_TIMEOUTS = { lockTimeoutMs: 5_000, statementTimeoutMs: 60_000 } as const;

/**
 * One small pool per connection URL, shared by every provision that points at the same database,
 * so a thousand provisions do not open a thousand connections.
 */
export function createPoolProvider(options: PoolProviderOptions = {}): PoolProvider {
  const pools = new Map<string, pg.Pool>();
  return {
    get(url: string): pg.Pool {
      let pool = pools.get(url);
      if (!pool) {
        pool = new pg.Pool({
          connectionString: url,
          max: options.max ?? 4,
          connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
          idleTimeoutMillis: 30_000,
          application_name: 'cdm-sink-operator',
          lock_timeout: options.lockTimeoutMs ?? DEFAULT_QUERY_TIMEOUTS.lockTimeoutMs,
          statement_timeout: options.statementTimeoutMs ?? DEFAULT_QUERY_TIMEOUTS.statementTimeoutMs,
          // A transaction left open by a frozen process would keep its table locks; the server ends it.
          idle_in_transaction_session_timeout: 60_000,
        });
        // An idle client that loses its server emits here; the next query reports the fault instead.
        pool.on('error', () => {});
        pools.set(url, pool);
      }
      return pool;
    },
    async end(): Promise<void> {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.end()));
    },
  };
}
