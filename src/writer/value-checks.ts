/**
 * Checks for what Postgres would refuse or silently alter but JSON Schema cannot express. Each returns a
 * problem description or undefined; the Ajv keywords in `validate-rows.ts` and the error messages use the
 * same functions, so what fails and what the error says cannot drift apart.
 */

const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * Why a string cannot go into a `text` column unchanged: a NUL byte (Postgres `22021`; jsonb `22P05`), or a
 * lone UTF-16 surrogate (`pg` would silently encode it as U+FFFD; jsonb rejects it).
 */
export function textProblem(value: string): string | undefined {
  if (value.includes('\u0000'))
    return 'contains a NUL character (\\u0000), which Postgres cannot store in text';
  if (!isWellFormed(value)) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  return undefined;
}

/** `textProblem` for a string or for each element of an array of strings (other values are left to the types). */
export function textOrArrayProblem(value: unknown): string | undefined {
  if (typeof value === 'string') return textProblem(value);
  if (!Array.isArray(value)) return undefined;
  for (let i = 0; i < value.length; i++) {
    const element = value[i];
    const problem = typeof element === 'string' ? textProblem(element) : undefined;
    if (problem) return `element ${i} ${problem}`;
  }
  return undefined;
}

/** jsonb nests at most this deep here; deeper documents are almost surely a mapping bug (cycles, etc.). */
export const MAX_JSON_DEPTH = 64;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'object' && value !== null)
    return `a ${value.constructor?.name ?? 'non-plain object'}`;
  if (typeof value === 'number') return String(value);
  return `a ${typeof value}`;
}

function walkJson(value: unknown, path: string, depth: number): string | undefined {
  if (value === null || typeof value === 'boolean') return undefined;
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem ? `${path} ${problem}` : undefined;
  }
  if (typeof value === 'number')
    return Number.isFinite(value) ? undefined : `${path} is ${value}, not a JSON number`;
  if (typeof value !== 'object') return `${path} is ${describe(value)}, not a JSON value`;
  if (depth >= MAX_JSON_DEPTH) return `${path} is nested deeper than ${MAX_JSON_DEPTH} levels`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = walkJson(value[i], `${path}[${i}]`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (!isPlainObject(value)) return `${path} is ${describe(value)}, not a plain JSON object`;
  for (const key of Object.keys(value)) {
    const keyProblem = textProblem(key);
    if (keyProblem) return `${path} has a key that ${keyProblem}`;
    const problem = walkJson((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
    if (problem) return problem;
  }
  return undefined;
}

/** Why `value` (already known to be an object) is not plain JSON that jsonb accepts unchanged. */
export function jsonProblem(value: unknown, path: string): string | undefined {
  return walkJson(value, path, 0);
}

/** Configuration of the `cdmNumeric` keyword. */
export interface NumericRule {
  readonly kind: 'bigint' | 'numeric';
  /** The model's minimum, applied here to the decimal-string form (`minimum` covers numbers). */
  readonly minimum?: number;
}

const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;

/** Whether `n` fits Postgres `bigint`. */
export function bigintInRange(n: bigint): boolean {
  return n >= BIGINT_MIN && n <= BIGINT_MAX;
}

/** Postgres `numeric` holds at most this many digits before the decimal point (leading zeros aside)… */
export const NUMERIC_MAX_INTEGER_DIGITS = 131072;
/** …and at most this many after it (trailing zeros included: they set the scale). */
export const NUMERIC_MAX_FRACTION_DIGITS = 16383;

/**
 * Whether a decimal string (`-?digits(.digits)?`) fits an unconstrained `numeric`. Beyond it Postgres
 * fails the whole statement with `22003`, so the row is refused here instead.
 */
export function numericDigitsFit(text: string): boolean {
  const point = text.indexOf('.');
  const integerEnd = point < 0 ? text.length : point;
  let first = text.charCodeAt(0) === 45 ? 1 : 0;
  while (first < integerEnd && text.charCodeAt(first) === 48) first++;
  const fraction = point < 0 ? 0 : text.length - point - 1;
  return integerEnd - first <= NUMERIC_MAX_INTEGER_DIGITS && fraction <= NUMERIC_MAX_FRACTION_DIGITS;
}

/** Why a number or decimal string does not fit the column (range, precision or the model's minimum). */
export function numericProblem(value: unknown, rule: NumericRule): string | undefined {
  if (typeof value === 'number') {
    if (rule.kind === 'bigint' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
      return `${value} is beyond 2^53 and has lost precision; send it as a decimal string`;
    }
    return undefined;
  }
  if (typeof value !== 'string') return undefined;
  if (rule.kind === 'bigint' && /^-?[0-9]+$/.test(value)) {
    // Past 19 digits it is out of range whatever it says (leading zeros fail the row schema too), and
    // BigInt of millions of digits would take seconds.
    if (value.length > 20) return `${shortened(value)} is out of range for bigint`;
    const n = BigInt(value);
    if (!bigintInRange(n)) return `${shortened(value)} is out of range for bigint`;
    if (rule.minimum !== undefined && n < BigInt(rule.minimum))
      return `must be >= ${rule.minimum} (got ${value})`;
  }
  if (rule.kind === 'numeric' && /^-?[0-9]+(\.[0-9]+)?$/.test(value)) {
    if (!numericDigitsFit(value)) {
      return (
        `${shortened(value)} has more digits than Postgres numeric holds ` +
        `(at most ${NUMERIC_MAX_INTEGER_DIGITS} before the decimal point and ${NUMERIC_MAX_FRACTION_DIGITS} after it)`
      );
    }
    if (rule.minimum !== undefined && Number(value) < rule.minimum)
      return `must be >= ${rule.minimum} (got ${value})`;
  }
  return undefined;
}

/** A long value as a message shows it: its start, its length, no megabytes of digits. */
function shortened(text: string): string {
  return text.length > 40 ? `${text.slice(0, 20)}… (${text.length} characters)` : text;
}
