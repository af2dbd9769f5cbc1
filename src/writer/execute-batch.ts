import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { BatchOutcome, InsertVia } from './batch-types.js';
import type { EncodedRow } from './encode-row.js';
import type { RejectedRow } from './errors.js';
import { joinLines } from './line-buffer.js';
import { errorCode, isDataErrorCode } from './retry.js';
import { replacesVersion } from './timestamps.js';
import { upsertParams } from './upsert-params.js';
import type { WriteStatements } from './upsert-sql.js';
import type { WriterPoolClient } from './writer-pool.js';

/**
 * One batch against one connection:
 *
 * 1. look up the stored `_row_hash` and `updated_at` of the batch's keys (one PK probe per key);
 * 2. split the batch: absent → insert; same hash → unchanged (never sent: no lock, no WAL, no dead
 *    tuple); stored version newer, or stored one and incoming none → stale (never sent, see
 *    `replacesVersion`); otherwise → update;
 * 3. new rows go in with `COPY` straight into the table (the physical limit: no upsert work, no stage
 *    table, so no DDL); changed rows with one set-based `INSERT … SELECT FROM unnest(…) ON CONFLICT`
 *    whose `WHERE` re-checks change and version server-side, for rows a concurrent writer touched
 *    between the lookup and the write. The upsert returns the keys it wrote; the rows its `WHERE` kept
 *    are re-read in the same transaction (the upsert locked them) and counted unchanged (the stored
 *    row has this content) or stale (a newer version landed in between);
 * 4. all of it in one transaction; a batch of new rows only is one autocommitted `COPY`. A batch with
 *    both new and changed rows sends the new ones through the upsert too, in one pass in key order, so
 *    that concurrent writers take row locks in the same order and cannot deadlock.
 *
 * A concurrent writer inserting a key this batch COPYs makes the COPY fail with `23505`; the caller
 * then replays the batch with `insertVia: 'upsert'`, which sends new rows through the upsert as well.
 *
 * When Postgres refuses a row (SQLSTATE class 22 or 23: a constraint or trigger the validator does not
 * know), the caller replays the batch with `isolate`: every row goes through the upsert, each
 * sub-range after a savepoint; a refused sub-range is rolled back to the savepoint and split in two,
 * down to single rows, which are the refused ones (see `bisect`).
 */

/**
 * Rows per upsert statement. The decoded parameters and pg's serialised arrays of a statement are held
 * in memory at once; 1,000 rows keep that to a few MB (5,000-row statements pushed the writer past
 * 250 MB RSS) and were the fastest unnest size measured (bulk-write notes §3.1).
 */
const UPSERT_CHUNK_ROWS = 1000;

/** One savepoint, moved forward past each accepted sub-range, so bisection never nests them. */
const SAVEPOINT = 'cdm_writer_rows';

/** The compiled statements of one table plus their prepared-statement names. */
export interface TableStatements extends WriteStatements {
  readonly lookupName: string;
  readonly upsertName: string;
}

/** What a row sent by a batch does once the batch commits. */
export type Written = 'inserted' | 'updated';

export interface ExecuteOptions {
  readonly insertVia: InsertVia;
  /** Isolate the rows Postgres refuses, by bisection under savepoints (after a first try hit one). */
  readonly isolate: boolean;
  /** When rows were refused: commit the others (`onInvalidRow: 'skip'`), or roll the batch back. */
  readonly keepAccepted: boolean;
  /**
   * What the rows of an earlier attempt do if that attempt's commit, whose reply never came, landed.
   * A row this attempt finds stored with its own hash is counted as that, not as unchanged.
   */
  readonly unconfirmed: ReadonlyMap<string, Written> | undefined;
  /**
   * Called right before the statement that commits is sent (`COMMIT`, or the one autocommitted
   * `COPY`), with what each row counted as written does once it commits. From then on, a lost
   * connection leaves the outcome unknown.
   */
  readonly onCommit: (written: ReadonlyMap<string, Written>) => void;
}

interface StoredRow {
  cdm_id: string;
  hash: string | null;
  version: string | null;
}

async function lookup(client: WriterPoolClient, statements: TableStatements, ids: readonly string[]) {
  // Its generic plan is a bitmap probe of the primary key whatever the table's size (checked with
  // EXPLAIN on an empty and a 200k-row table), so preparing it once per connection is safe.
  const result = await client.query<StoredRow>({
    name: statements.lookupName,
    text: statements.lookup,
    values: [ids],
  });
  return new Map(result.rows.map((r) => [r.cdm_id, r]));
}

async function copyRows(client: WriterPoolClient, statements: TableStatements, rows: readonly EncodedRow[]) {
  const stream = client.query(copyFrom(statements.copy));
  await pipeline(Readable.from(joinLines(rows)), stream);
  return stream.rowCount;
}

/** The rows the upsert wrote, by key: true for a new row. */
async function upsertRows(
  client: WriterPoolClient,
  statements: TableStatements,
  rows: readonly EncodedRow[],
): Promise<Map<string, boolean>> {
  const values = upsertParams(rows, statements.columns.length);
  const result = await client.query<{ cdm_id: string; inserted: boolean }>({
    name: statements.upsertName,
    text: statements.upsert,
    values,
  });
  return new Map(result.rows.map((r) => [r.cdm_id, r.inserted]));
}

/** How a row Postgres refused is reported: its SQLSTATE and message, never the error's `detail`. */
function rejection(row: EncodedRow, error: unknown, code: string): RejectedRow {
  const { message, column } = error as { message?: unknown; column?: unknown };
  return {
    index: row.index,
    cdmId: row.cdmId,
    code,
    errors: [
      {
        field: typeof column === 'string' ? column : '',
        // Only the primary message: a DETAIL such as "Failing row contains (…)" echoes whole rows.
        reason: `rejected by Postgres [${code}]: ${typeof message === 'string' ? message : String(error)}`,
      },
    ],
  };
}

/** Writes `rows` (sorted, one per key) and says what happened to each; see the module comment. */
export async function executeBatch(
  client: WriterPoolClient,
  statements: TableStatements,
  rows: readonly EncodedRow[],
  options: ExecuteOptions,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { inserted: 0, updated: 0, unchanged: 0, stale: 0, rejected: [] };
  if (rows.length === 0) return outcome;
  const stored = await lookup(
    client,
    statements,
    rows.map((r) => r.cdmId),
  );
  // Every row counted as inserted or updated, so that a lost COMMIT can be accounted for on a retry.
  const written = new Map<string, Written>();
  let inserts: EncodedRow[] = [];
  let upserts: EncodedRow[] = [];
  // Isolation sends new rows through the upsert too: a COPY cannot be split without re-sending it.
  const copyNew = options.insertVia === 'copy' && !options.isolate;
  for (const row of rows) {
    const current = stored.get(row.cdmId);
    if (!current) (copyNew ? inserts : upserts).push(row);
    else if (current.hash === row.hash) {
      // Our own content: stored by an earlier attempt whose commit was not confirmed (counted as what
      // that attempt did), or already there before this call (unchanged).
      const earlier = options.unconfirmed?.get(row.cdmId);
      if (earlier) {
        outcome[earlier]++;
        written.set(row.cdmId, earlier);
      } else outcome.unchanged++;
    }
    // The ordering that collapsed the batch's duplicates, so batch boundaries never change the survivor.
    else if (!replacesVersion(row.version, current.version)) outcome.stale++;
    else upserts.push(row);
  }
  if (inserts.length === 0 && upserts.length === 0) return outcome;
  if (inserts.length > 0 && upserts.length > 0) {
    // One pass in key order: a COPY of the new rows and then an upsert of the changed ones would take
    // row locks out of order (new c before changed b), and two writers doing that on overlapping keys
    // deadlock (40P01, seen with four concurrent writers). Only batches mixing new and changed rows pay
    // the upsert's cost for their new rows; a first load is all COPY, a re-sync mostly unchanged.
    const send = new Set([...inserts, ...upserts]);
    upserts = rows.filter((row) => send.has(row));
    inserts = [];
  }

  if (upserts.length === 0) {
    // New rows only: one COPY is its own transaction (no BEGIN/COMMIT round trips).
    for (const row of inserts) written.set(row.cdmId, 'inserted');
    options.onCommit(written);
    outcome.inserted += await copyRows(client, statements, inserts);
    return outcome;
  }

  // Changed rows always run in a transaction: the rows the upsert's guard kept stay locked by it until
  // the end, so re-reading them below sees what the guard saw.
  await client.query('BEGIN');
  if (inserts.length > 0) {
    outcome.inserted += await copyRows(client, statements, inserts);
    for (const row of inserts) written.set(row.cdmId, 'inserted');
  }
  const kept: EncodedRow[] = [];
  const record = (sent: readonly EncodedRow[], result: ReadonlyMap<string, boolean>) => {
    for (const row of sent) {
      const inserted = result.get(row.cdmId);
      if (inserted === undefined) kept.push(row);
      else {
        const what: Written = inserted ? 'inserted' : 'updated';
        outcome[what]++;
        written.set(row.cdmId, what);
      }
    }
  };
  /**
   * Upserts `part` after the savepoint; when Postgres refuses it (class 22/23), rolls back to the
   * savepoint and tries each half, down to the single rows it refuses. Any other error aborts the batch
   * (the caller retries transient ones, isolation included). Returns whether all of `part` went in.
   * `refused`: `part` is known to hold a refused row, so it is split without being tried whole.
   */
  const bisect = async (part: readonly EncodedRow[], refused = false): Promise<boolean> => {
    if (!refused || part.length === 1) {
      try {
        const result = await upsertRows(client, statements, part);
        // Keep it, and set the savepoint after it: one round trip, and savepoints never nest.
        await client.query(`RELEASE SAVEPOINT ${SAVEPOINT}; SAVEPOINT ${SAVEPOINT}`);
        record(part, result);
        return true;
      } catch (error) {
        const code = errorCode(error);
        if (code === undefined || !isDataErrorCode(code)) throw error;
        // The savepoint stays in place, ready for the next try.
        await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
        if (part.length === 1) {
          outcome.rejected.push(rejection(part[0]!, error, code));
          return false;
        }
      }
    }
    const half = Math.ceil(part.length / 2);
    const left = await bisect(part.slice(0, half));
    // The left half went in whole, so the refused row is on the right: no need to try it whole.
    await bisect(part.slice(half), left);
    return false;
  };
  if (options.isolate) await client.query(`SAVEPOINT ${SAVEPOINT}`);
  for (let i = 0; i < upserts.length; i += UPSERT_CHUNK_ROWS) {
    const chunk = upserts.slice(i, i + UPSERT_CHUNK_ROWS);
    if (options.isolate) await bisect(chunk);
    else record(chunk, await upsertRows(client, statements, chunk));
  }
  if (kept.length > 0) {
    // The guard kept these: a concurrent writer stored the same content (unchanged) or a newer
    // version (stale) between the lookup and the upsert.
    const now = await lookup(
      client,
      statements,
      kept.map((r) => r.cdmId),
    );
    for (const row of kept) {
      if (now.get(row.cdmId)?.hash === row.hash) outcome.unchanged++;
      else outcome.stale++;
    }
  }
  // Rows were sent in key order; the result lists them in input order.
  outcome.rejected.sort((a, b) => a.index - b.index);
  if (outcome.rejected.length > 0 && !options.keepAccepted) {
    await client.query('ROLLBACK');
    return outcome;
  }
  options.onCommit(written);
  await client.query('COMMIT');
  return outcome;
}
