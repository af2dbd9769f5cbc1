/**
 * JSON text with object keys sorted at every level. jsonb forgets key order, so two documents that differ
 * only in key order are equal in the table; sorting before hashing makes them equal in the row hash too.
 * Input is assumed to be plain JSON already (`jsonProblem` in `value-checks.ts` has vetted it).
 */
export function canonicalJson(value: unknown): string {
  // A sorted copy and one native stringify beat hand-built text by about 1.5x on typical documents.
  return JSON.stringify(sortedCopy(value));
}

function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortedCopy);
  const record = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(record).sort()) copy[key] = sortedCopy(record[key]);
  return copy;
}
