import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { BatchOutcome, InsertVia } from './batch-types.js';
import type { EncodedRow } from './encode-row.js';
import { joinLines } from './line-buffer.js';
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
 *    between the lookup and the write;
 * 4. all of it in one transaction (a single statement is its own transaction).
 *
 * A concurrent writer inserting a key this batch COPYs makes the COPY fail with `23505`; the caller
 * then replays the batch with `insertVia: 'upsert'`, which sends new rows through the upsert as well.
 */

/**
 * Rows per upsert statement. The decoded parameters and pg's serialised arrays of a statement are held
 * in memory at once; 1,000 rows keep that to a few MB (5,000-row statements pushed the writer past
 * 250 MB RSS) and were the fastest unnest size measured (bulk-write notes §3.1).
 */
const UPSERT_CHUNK_ROWS = 1000;

/** The compiled statements of one table plus their prepared-statement names. */
export interface TableStatements extends WriteStatements {
  readonly lookupName: string;
  readonly upsertName: string;
}

interface StoredRow {
  cdm_id: string;
  hash: string | null;
  version: string | null;
}

async function lookup(client: WriterPoolClient, statements: TableStatements, rows: readonly EncodedRow[]) {
  const ids = rows.map((r) => r.cdmId);
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

async function upsertRows(
  client: WriterPoolClient,
  statements: TableStatements,
  rows: readonly EncodedRow[],
) {
  const values = upsertParams(rows, statements.columns.length);
  const result = await client.query<{ inserted: boolean }>({
    name: statements.upsertName,
    text: statements.upsert,
    values,
  });
  let inserted = 0;
  for (const row of result.rows) if (row.inserted) inserted++;
  return { inserted, updated: result.rows.length - inserted, untouched: rows.length - result.rows.length };
}

/** Writes `rows` (sorted, one per key) and says what happened to each; see the module comment. */
export async function executeBatch(
  client: WriterPoolClient,
  statements: TableStatements,
  rows: readonly EncodedRow[],
  insertVia: InsertVia,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { inserted: 0, updated: 0, unchanged: 0, stale: 0 };
  if (rows.length === 0) return outcome;
  const stored = await lookup(client, statements, rows);
  const inserts: EncodedRow[] = [];
  const upserts: EncodedRow[] = [];
  for (const row of rows) {
    const current = stored.get(row.cdmId);
    if (!current) (insertVia === 'copy' ? inserts : upserts).push(row);
    else if (current.hash === row.hash) outcome.unchanged++;
    // The ordering that collapsed the batch's duplicates, so batch boundaries never change the survivor.
    else if (!replacesVersion(row.version, current.version)) outcome.stale++;
    else upserts.push(row);
  }
  if (inserts.length === 0 && upserts.length === 0) return outcome;
  const statementCount = (inserts.length > 0 ? 1 : 0) + Math.ceil(upserts.length / UPSERT_CHUNK_ROWS);
  const transaction = statementCount > 1;
  if (transaction) await client.query('BEGIN');
  if (inserts.length > 0) outcome.inserted += await copyRows(client, statements, inserts);
  for (let i = 0; i < upserts.length; i += UPSERT_CHUNK_ROWS) {
    const result = await upsertRows(client, statements, upserts.slice(i, i + UPSERT_CHUNK_ROWS));
    outcome.inserted += result.inserted;
    outcome.updated += result.updated;
    // Rows the server-side guard kept: a concurrent writer stored the same content (or a newer version).
    outcome.unchanged += result.untouched;
  }
  if (transaction) await client.query('COMMIT');
  return outcome;
}
