import pg from 'pg';

export interface PoolProvider {
  get(url: string): pg.Pool;
  end(): Promise<void>;
}

/**
 * One small pool per connection URL, shared by every provision that points at the same database,
 * so a thousand provisions do not open a thousand connections.
 */
export function createPoolProvider(
  options: { max?: number; connectionTimeoutMs?: number } = {},
): PoolProvider {
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
