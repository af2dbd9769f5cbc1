/**
 * What the public API says about one batch (how new rows go in, what happened to the rows), kept apart
 * from `execute-batch.ts` so these declarations import neither pg nor Node's types.
 */

import type { RejectedRow } from './errors.js';

/** How rows absent from the table are inserted: `COPY` into the table, or the upsert statement. */
export type InsertVia = 'copy' | 'upsert';

/** What one batch did to its rows. */
export interface BatchOutcome {
  inserted: number;
  updated: number;
  unchanged: number;
  stale: number;
  /**
   * Rows Postgres refused (SQLSTATE class 22 or 23), isolated by bisection, in input order. Under
   * `onInvalidRow: 'reject'` the batch was rolled back when this is not empty.
   */
  rejected: RejectedRow[];
}
