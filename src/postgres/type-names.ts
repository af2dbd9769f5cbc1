/**
 * Postgres spells one type several ways (`timestamptz`, `timestamp with time zone`, `_text`, `text[]`).
 * Both sides of a diff go through this, so spelling never looks like drift.
 */
const ALIASES: Readonly<Record<string, string>> = {
  timestamptz: 'timestamp with time zone',
  timestamp: 'timestamp without time zone',
  int8: 'bigint',
  int4: 'integer',
  int: 'integer',
  int2: 'smallint',
  bool: 'boolean',
  varchar: 'character varying',
  decimal: 'numeric',
  float8: 'double precision',
};

export function normalizeType(type: string): string {
  let t = type.trim().toLowerCase().replace(/\s+/g, ' ');
  let arrayDims = 0;
  if (t.startsWith('_')) {
    t = t.slice(1);
    arrayDims = 1;
  }
  while (t.endsWith('[]')) {
    t = t.slice(0, -2);
    arrayDims += 1;
  }
  if (t === 'array') return 'array';
  return (ALIASES[t] ?? t) + '[]'.repeat(arrayDims);
}
