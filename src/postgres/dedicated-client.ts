import type pg from 'pg';
import { checkOut } from './check-out.js';

/** Whether the session must be discarded instead of returned to the pool. */
export interface Session {
  broken: boolean;
}

/**
 * Runs `use` on one pooled client, for statements that must share a session (an advisory lock, a
 * transaction). A checked-out client has no listener of the pool's: without this one, a server that
 * goes away mid-statement would be an unhandled 'error' event, which ends the process. The client goes
 * back to the pool unless it failed or `use` marked the session broken.
 */
export async function withDedicatedClient<T>(
  pool: pg.Pool,
  use: (client: pg.PoolClient, session: Session) => Promise<T>,
): Promise<T> {
  const session: Session = { broken: false };
  const onError = () => {
    session.broken = true;
  };
  const client = await checkOut(pool, onError);
  try {
    return await use(client, session);
  } catch (error) {
    session.broken = true;
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.removeListener('end', onError);
    client.release(session.broken);
  }
}
