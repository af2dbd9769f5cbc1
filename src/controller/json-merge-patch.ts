/**
 * RFC 7386 JSON merge patches, computed rather than hand-built: the status writer sends only what
 * changed, and an `undefined` patch means "equal", which is how status writes are skipped.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Drops `undefined` members and turns values into plain JSON, as the wire would. */
export function toJson(value: unknown): Json {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as Json);
}

/** Structural equality of two JSON values; object key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]))
    );
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = new Set(
    [...Object.keys(a), ...Object.keys(b)].filter((k) => a[k] !== undefined || b[k] !== undefined),
  );
  for (const key of keys) if (!jsonEqual(a[key], b[key])) return false;
  return true;
}

/**
 * The merge patch that turns `current` into `next`, or undefined when they are equal. Members missing
 * from `next` become `null` (delete); arrays are replaced whole, as RFC 7386 requires.
 */
export function createMergePatch(current: unknown, next: unknown): Json | undefined {
  const from = toJson(current);
  const to = toJson(next);
  if (jsonEqual(from, to)) return undefined;
  if (!isObject(from) || !isObject(to)) return to;
  const patch: Record<string, Json> = {};
  for (const key of Object.keys(from)) if (!(key in to)) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    const member = createMergePatch(from[key], value);
    if (member !== undefined) patch[key] = member;
  }
  return patch;
}
