import { decodeCopyLine } from './copy-encoding.js';
import type { EncodedRow } from './encode-row.js';

/**
 * Bind parameters of the unnest upsert, decoded from the rows' COPY lines: one JS array of text per
 * column, `_row_hash` last (the line's last field). Postgres parses each array with the column's type
 * (`$n::bigint[]`, …). A `text[]` column travels as per-row array literals, because pg would turn nested
 * JS arrays into one multi-dimensional array, which fails for rows with different label counts.
 *
 * Decoding only happens for rows that changed, so the common paths (new rows via COPY, unchanged rows
 * not sent) never pay for it.
 */
export function upsertParams(rows: readonly EncodedRow[], columnCount: number): (string | null)[][] {
  const params: (string | null)[][] = Array.from({ length: columnCount + 1 }, () => new Array(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    // end - 1: without the newline.
    const fields = decodeCopyLine(row.chunk.toString('utf8', row.start, row.end - 1));
    if (fields.length !== columnCount + 1) {
      throw new Error(`encoded row ${row.index} has ${fields.length} fields, expected ${columnCount + 1}`);
    }
    for (let c = 0; c <= columnCount; c++) params[c]![r] = fields[c]!;
  }
  return params;
}
