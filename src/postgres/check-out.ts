/** What `checkOut` needs of a node-postgres pool, structurally, so the writer can share it without `pg` types. */
export interface CallbackPool<C> {
  connect(
    callback: (error: Error | undefined, client: C | undefined, done: (release?: unknown) => void) => void,
  ): void;
}

export interface LossListenable {
  on(event: 'error' | 'end', listener: () => void): unknown;
}

/**
 * `pool.connect` with `onLost` attached to the client's 'error' and 'end' inside the pool's callback.
 * A new connection is handed out while pg parses the server's ReadyForQuery; a FATAL in the same chunk
 * (a backend terminated right then, by a failover or an administrator) is emitted before any
 * `await pool.connect()` continuation runs, so a listener added after the `await` comes too late and
 * the process dies of an unhandled 'error' event.
 */
export function checkOut<C extends LossListenable>(pool: CallbackPool<C>, onLost: () => void): Promise<C> {
  return new Promise((resolve, reject) => {
    pool.connect((error, client) => {
      if (error || !client) return reject(error ?? new Error('the pool handed out no client'));
      client.on('error', onLost);
      client.on('end', onLost);
      resolve(client);
    });
  });
}
