/**
 * The connection pool as far as the writer uses it, structurally, so the writer's declarations need
 * neither `pg` nor `@types/pg`: a node-postgres `pg.Pool` satisfies `WriterPool` as it is (a type test
 * checks it). The writer streams `COPY` through `pg-copy-streams`, so in practice it must be one.
 */

import type { CallbackPool } from '../postgres/check-out.js';

/** A `COPY` stream that the connection drives (`pg-copy-streams`' `from(…)`, a pg `Submittable`). */
export interface WriterSubmittable {
  // `never`: the connection type is pg's own; the writer never calls this, the connection does.
  submit(connection: never): void;
}

/** A pooled connection, checked out for one batch. */
export interface WriterPoolClient {
  /** A named (prepared once per connection) statement with parameters. */
  query<R extends object>(config: {
    readonly name: string;
    readonly text: string;
    readonly values: unknown[];
  }): Promise<{ rows: R[] }>;
  /** A statement without parameters (`BEGIN`, `COMMIT`). */
  query(text: string): Promise<unknown>;
  /** Starts a `COPY`; returns the stream it was given. */
  query<S extends WriterSubmittable>(submittable: S): S;
  /** Back to the pool, or closed for good with `destroy`. */
  release(destroy?: boolean): void;
  /** The writer listens for a connection dying while it holds it. */
  on(event: 'error' | 'end', listener: () => void): unknown;
  off(event: 'error' | 'end', listener: () => void): unknown;
}

/**
 * A pool the writer borrows connections from and runs its read-only provisioned check on. It checks
 * connections out with the callback form of `connect`, so its 'error' listener is on a new connection
 * before pg can report that connection's death (see `checkOut`).
 */
export interface WriterPool extends CallbackPool<WriterPoolClient> {
  query<R extends object>(text: string, values: unknown[]): Promise<{ rows: R[] }>;
}
