/**
 * What the public API says about one batch (how new rows go in, what happened to the rows), kept apart
 * from `execute-batch.ts` so these declarations import neither pg nor Node's types.
 */

/** How rows absent from the table are inserted: `COPY` into the table, or the upsert statement. */
export type InsertVia = 'copy' | 'upsert';

/** What one batch did to its rows. */
export interface BatchOutcome {
  inserted: number;
  updated: number;
  unchanged: number;
  stale: number;
}
