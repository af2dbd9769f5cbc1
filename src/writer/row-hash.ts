import { hash } from 'node:crypto';

/**
 * The `_row_hash` plumbing column: a digest of a row's content as the writer sends it, so a re-delivered,
 * unchanged row is recognised from its stored hash and never sent again (no lock, no WAL, no dead tuple).
 *
 * What is hashed: the row's COPY line in the writer's column order (`encode-row.ts`), without trailing
 * columns that are null or hold their default. The line is built from canonical values (UTC timestamps,
 * decimal integers, jsonb with sorted keys) and COPY's escaping makes it unambiguous, so equal content
 * gives equal hashes, different content different ones. Dropping trailing nulls keeps hashes stable when
 * a model version appends a nullable field.
 *
 * Caveats: change detection, not a security boundary. Changing the encoding or the column order makes
 * every stored row look changed once; it is then rewritten with the new hash.
 */
export function rowHash(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'base64');
}
