import type pg from 'pg';
import type { WriterPool, WriterPoolClient, WriterSubmittable } from '../../src/writer/index.js';

/**
 * A real `pg.Pool` seen through the writer's `WriterPool` port, with hooks around the statements of the
 * writer's connections: a fault (the connection lost right after the server executed a statement) or a
 * concurrent write between two of the writer's statements, at an exact point rather than by timing.
 * The database stays real; only the moment of the event is chosen.
 */
export interface StatementHooks {
  /** Runs after a named statement (the lookup, the upsert) returned, before the writer sees its rows. */
  afterNamed?(name: string, text: string): Promise<void> | void;
  /** True: this plain statement (`BEGIN`, `COMMIT`) executes, then the connection is lost. */
  loseAfter?(text: string): boolean;
  /** True: this COPY completes (and, outside a transaction, commits), then the connection is lost. */
  loseAfterCopy?(): boolean;
}

/** The socket under a pooled client: `connection` is pg's own, typed on `pg.Client` only. */
function socketOf(client: pg.PoolClient) {
  return (client as unknown as pg.Client).connection.stream;
}

/**
 * Destroys the client's socket and waits for pg to notice ('end'), so the writer's own 'error'/'end'
 * listeners have fired before it sees the failure, as when a network drops after the server answered.
 */
async function loseConnection(client: pg.PoolClient): Promise<never> {
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  socketOf(client).destroy();
  await ended;
  throw new Error('Connection terminated unexpectedly (injected after the statement executed)');
}

/** The callbacks pg calls on an active COPY (`pg-copy-streams`). */
interface CopyCallbacks {
  handleReadyForQuery(): void;
  handleError(error: Error): void;
}

function hooked(client: pg.PoolClient, hooks: StatementHooks): WriterPoolClient {
  async function plain(text: string) {
    const result = await client.query(text);
    if (hooks.loseAfter?.(text)) return loseConnection(client);
    return result;
  }
  async function named(config: { name: string; text: string; values: unknown[] }) {
    const result = await client.query(config);
    await hooks.afterNamed?.(config.name, config.text);
    return result;
  }
  function copy(submittable: WriterSubmittable) {
    if (hooks.loseAfterCopy?.()) {
      // The server commits an autocommitted COPY before it sends CommandComplete and ReadyForQuery.
      // Instead of finishing the stream on ReadyForQuery, drop the socket and fail the stream once pg
      // has noticed, so the client never learns that the rows are in.
      const callbacks = submittable as unknown as CopyCallbacks;
      const fail = callbacks.handleError.bind(callbacks);
      callbacks.handleReadyForQuery = () => {
        client.once('end', () => fail(new Error('Connection terminated unexpectedly (injected after COPY)')));
        socketOf(client).destroy();
      };
    }
    return client.query(submittable as unknown as pg.Submittable);
  }
  const query = (arg: string | WriterSubmittable | { name: string; text: string; values: unknown[] }) =>
    typeof arg === 'string' ? plain(arg) : 'submit' in arg ? copy(arg) : named(arg);
  return {
    query: query as WriterPoolClient['query'],
    release: (destroy) => client.release(destroy),
    on: (event, listener) => client.on(event, listener),
    off: (event, listener) => client.off(event, listener),
  };
}

/** `pool` with `hooks` on every connection the writer checks out; the provisioned check runs as is. */
export function hookPool(pool: pg.Pool, hooks: StatementHooks): WriterPool {
  return {
    query: <R extends object>(text: string, values: unknown[]) =>
      pool.query(text, values) as unknown as Promise<{ rows: R[] }>,
    connect(callback) {
      pool.connect((error, client, done) => {
        if (error || !client) callback(error, undefined, done);
        else callback(undefined, hooked(client, hooks), done);
      });
    },
  };
}
