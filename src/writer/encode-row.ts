import type { FieldSpec, ModelSpec } from '../models/index.js';
import { canonicalJsonText, type JsonSize, NOT_JSON, TOO_LARGE } from './canonical-json.js';
import { arrayLiteral, COPY_NULL, copyEscape } from './copy-encoding.js';
import type { FieldError } from './errors.js';
import type { LineBuffer, LineRef } from './line-buffer.js';
import { rowHash } from './row-hash.js';
import { rowFields } from './row-schema.js';
import { normalizeDate, normalizeTimestamp } from './timestamps.js';
import { bigintInRange, numericDigitsFit, textProblem } from './value-checks.js';

/**
 * A validated row, encoded once into its COPY line (in a batch's `LineBuffer`) and hashed from the same
 * bytes. Everything the writer later needs is here: the key and version for the lookup, the hash for
 * change detection, the line for COPY (or, decoded, for the upsert).
 */
export interface EncodedRow extends LineRef {
  /** Position of the row in the input of the `write` call. */
  readonly index: number;
  readonly cdmId: string;
  /** Canonical `updated_at` (fixed-width UTC, so strings compare like instants); null when absent. */
  readonly version: string | null;
  readonly hash: string;
}

/**
 * The writer's column order for COPY lines, unnest parameters and hashing: `cdm_id`, `properties`, then
 * the model's fields in model order. New model fields are appended to a model, so they land at the end
 * of the line, where trailing nulls are left out of the hash: existing rows keep their hash.
 */
export function lineColumns(model: ModelSpec): FieldSpec[] {
  const fields = rowFields(model);
  const first = ['cdm_id', 'properties'];
  return [
    ...first.flatMap((name) => fields.filter((f) => f.name === name)),
    ...fields.filter((f) => !first.includes(f.name)),
  ];
}

/**
 * What the encoder makes of one row: the encoded row; a field error when the row is valid but too large;
 * or `undefined` when some value breaks the model's row schema, and the validator must say which.
 */
export type EncodeResult = EncodedRow | FieldError | undefined;

/** Encodes a row into `lines` when it is valid; `index` is its input position. */
export type RowEncoder = (row: unknown, index: number, lines: LineBuffer) => EncodeResult;

/**
 * Everything a COPY field must escape, plus what text must not hold at all (NUL, lone surrogates; any
 * surrogate matches and is then checked precisely). One native scan decides, for nearly every string,
 * that it is valid and needs no escaping.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
const SPECIAL_TEXT = /[\u0000\\\n\r\t\ud800-\udfff]/;

const INTEGER_TEXT = /^-?[0-9]{1,19}$/;
const DECIMAL_TEXT = /^-?[0-9]+(\.[0-9]+)?$/;

/** The per-column facts the encoder checks, from the same field specs the row schema is made of. */
interface Column {
  readonly name: string;
  readonly type: FieldSpec['type'];
  readonly nullable: boolean;
  readonly required: boolean;
  /** Columns with a default (`labels`, `properties`) spell it `{}` like the column's default. */
  readonly hasDefault: boolean;
  readonly allowed: ReadonlySet<string> | undefined;
  readonly minimum: number | undefined;
}

function columnOf(field: FieldSpec): Column {
  return {
    name: field.name,
    type: field.type,
    nullable: field.nullable,
    required: !field.nullable && !field.default,
    hasDefault: field.default !== undefined,
    allowed: field.check?.kind === 'oneOf' ? new Set(field.check.values) : undefined,
    minimum: field.check?.kind === 'minimum' ? field.check.value : undefined,
  };
}

/** Characters of the row's text so far (a lower bound of its encoded bytes) and `maxRowBytes`. */
type Size = JsonSize;

/** Text that is valid in a text column, COPY-escaped; undefined when Postgres could not store it. */
function escapedText(text: string): string | undefined {
  return textProblem(text) === undefined ? copyEscape(text) : undefined;
}

function integerText(v: unknown, minimum: number | undefined): string | undefined {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || (minimum !== undefined && v < minimum)) return undefined;
    return String(v);
  }
  if (typeof v !== 'string' || !INTEGER_TEXT.test(v)) return undefined;
  const n = BigInt(v);
  if (!bigintInRange(n) || (minimum !== undefined && n < BigInt(minimum))) return undefined;
  // `7`, `"7"` and `"007"` are the same value.
  return n.toString();
}

function numberText(
  v: unknown,
  minimum: number | undefined,
  size: Size,
  maxRowBytes: number,
): string | undefined | typeof TOO_LARGE {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || (minimum !== undefined && v < minimum)) return undefined;
    return String(v);
  }
  if (typeof v !== 'string') return undefined;
  size.chars += v.length;
  if (size.chars > maxRowBytes) return TOO_LARGE;
  if (!DECIMAL_TEXT.test(v) || !numericDigitsFit(v)) return undefined;
  if (minimum !== undefined && Number(v) < minimum) return undefined;
  return v;
}

function arrayText(v: unknown, size: Size): string | undefined | typeof TOO_LARGE {
  if (!Array.isArray(v)) return undefined;
  if (v.length === 0) return '{}';
  let plain = true;
  for (let i = 0; i < v.length; i++) {
    const element: unknown = v[i];
    if (typeof element !== 'string') return undefined;
    if (SPECIAL_TEXT.test(element)) {
      if (textProblem(element) !== undefined) return undefined;
      plain = false;
    } else if (plain && element.includes('"')) {
      plain = false;
    }
    size.chars += element.length;
  }
  // Checked before the literal is built: escaping could double and double again what is already too much.
  if (size.chars > size.limit) return TOO_LARGE;
  // Without quotes, backslashes or COPY specials, quoting the elements is all the literal needs.
  return plain ? `{"${(v as string[]).join('","')}"}` : copyEscape(arrayLiteral(v as string[]));
}

/** A plain JSON object's canonical text, COPY-escaped; undefined when it is not plain JSON. */
function jsonText(v: unknown, size: Size): string | undefined | typeof TOO_LARGE {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const json = canonicalJsonText(v, size, 0);
  if (json === NOT_JSON) return undefined;
  if (json === TOO_LARGE) return TOO_LARGE;
  // JSON text holds no raw tab, newline or carriage return (JSON escapes them): only backslashes need
  // COPY's escaping.
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
}

/** The helpers the generated code calls, passed in by name. */
const HELPERS = {
  SPECIAL_TEXT,
  escapedText,
  integerText,
  numberText,
  arrayText,
  jsonText,
  normalizeDate,
  normalizeTimestamp,
  TOO_LARGE,
} as const;

/**
 * The generated code for one column: reads the value (a named property load, which V8 keeps
 * monomorphic), checks it as the row schema would, and leaves its COPY text in `t<c>`. `h` becomes the
 * number of leading columns that are hashed (trailing nulls and defaults are not).
 */
function columnCode(column: Column, c: number): string {
  const name = JSON.stringify(column.name);
  const t = `t${c}`;
  const absent = column.required ? 'return undefined;' : `${t} = ${column.hasDefault ? "'{}'" : 'NULL'};`;
  const isNull = column.nullable ? `${t} = NULL;` : 'return undefined;';
  const min = column.minimum === undefined ? 'undefined' : String(column.minimum);
  const tooLarge = `return tooLarge(${name}, size.chars - before);`;
  let check: string;
  switch (column.type) {
    case 'string':
      check =
        "if (typeof v !== 'string') return undefined;\n" +
        (column.allowed ? `if (!allowed${c}.has(v)) return undefined;\n` : '') +
        `size.chars += v.length; if (size.chars > maxRowBytes) ${tooLarge}\n` +
        `${t} = SPECIAL_TEXT.test(v) ? escapedText(v) : v;`;
      break;
    case 'boolean':
      check = `if (typeof v !== 'boolean') return undefined; ${t} = v ? 't' : 'f';`;
      break;
    case 'integer':
      check = `${t} = integerText(v, ${min});`;
      break;
    case 'number':
      check = `${t} = numberText(v, ${min}, size, maxRowBytes); if (${t} === TOO_LARGE) ${tooLarge}`;
      break;
    case 'date':
      check = `${t} = typeof v === 'string' ? normalizeDate(v) : undefined;`;
      break;
    case 'timestamp':
      check = `${t} = typeof v === 'string' ? normalizeTimestamp(v) : undefined;`;
      break;
    case 'string_array':
      check = `${t} = arrayText(v, size); if (${t} === TOO_LARGE) ${tooLarge}`;
      break;
    case 'json_object':
      check = `${t} = jsonText(v, size); if (${t} === TOO_LARGE) ${tooLarge}`;
      break;
  }
  const hashed = column.hasDefault ? `if (${t} !== '{}') h = ${c + 1};` : `h = ${c + 1};`;
  return (
    `v = row[${name}];\n` +
    `if (v === undefined) { ${absent} } else if (v === null) { ${isNull} } else {\n` +
    `before = size.chars;\n${check}\nif (${t} === undefined) return undefined;\n${hashed}\n}`
  );
}

/** A finished line: its text, and how many leading columns the hash covers. */
type Finish = (
  line: string,
  hashedColumns: number,
  version: string | null,
  row: Record<string, unknown>,
) => EncodeResult;

/**
 * The encoder of `model`: checks each value against what the row schema (`row-schema.ts`) says of its
 * field and encodes it in the same step, so the common, valid row is looked at once. The Ajv validator
 * compiled from the row schema stays the authority on messages: it runs only for rows this refuses
 * (`prepare-row.ts`), and a differential test holds the two to the same verdicts.
 *
 * Generated once per model, as Ajv generates validators: straight-line code with a named property load
 * per field and one concatenation of the line halves the per-row cost of a loop over the columns (keyed
 * loads and `Array.prototype.join` were most of it, measured with `bench/writer/prepare-cost.ts`).
 *
 * Rows larger than `maxRowBytes` (UTF-8 bytes of the encoded line) are refused with a field error; the
 * check runs on each value's length before any escaping or serialising, so no oversized intermediate
 * string is ever built.
 */
export function rowEncoder(model: ModelSpec, maxRowBytes: number): RowEncoder {
  const columns = lineColumns(model).map(columnOf);
  const count = columns.length;
  const versionIndex = columns.findIndex((c) => c.name === 'updated_at' && c.type === 'timestamp');
  const names = columns.map((c) => JSON.stringify(c.name));
  const temporaries = columns.map((_, c) => `t${c}`);
  const body = `
    if (typeof row !== 'object' || row === null || Array.isArray(row)) return undefined;
    // for…in like the schema's additionalProperties check: inherited enumerable keys count too.
    for (const key in row) {
      switch (key) { ${names.map((n) => `case ${n}:`).join(' ')} break; default: return undefined; }
    }
    const size = scratch; size.chars = 0;
    let v, before, h = 0, ${temporaries.join(', ')};
    ${columns.map(columnCode).join('\n')}
    return finish(${temporaries.join(" + '\\t' + ")}, h, ${versionIndex < 0 ? 'null' : `t${versionIndex} === NULL ? null : t${versionIndex}`}, row);`;
  const allowed = columns.flatMap((column, c) => (column.allowed ? [[`allowed${c}`, column.allowed]] : []));
  const scope: Record<string, unknown> = {
    ...HELPERS,
    ...Object.fromEntries(allowed),
    NULL: COPY_NULL,
    maxRowBytes,
    scratch: { chars: 0, limit: maxRowBytes } satisfies Size,
  };
  const tooLarge = (field: string, bytes: number): FieldError => ({
    field,
    reason:
      `is too large: the row's encoded size exceeds the writer's maxRowBytes of ${maxRowBytes} bytes` +
      ` (this field alone is at least ${bytes} bytes); store large content elsewhere and link to it, or raise maxRowBytes`,
  });
  // Where `finish` writes the row being encoded; set per row, without allocating.
  const target: { index: number; lines: LineBuffer | undefined } = { index: 0, lines: undefined };
  const finish: Finish = (line, hashedColumns, version, row) => {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; measure exactly only when that bound is not enough.
    let bound = line.length * 3;
    if (bound > maxRowBytes) {
      bound = Buffer.byteLength(line);
      if (bound > maxRowBytes) return tooLarge(largestField(line, columns), bound);
    }
    const lines = target.lines!;
    const { chunk, start } = lines.reserve(bound + 64);
    let end = start + chunk.write(line, start);
    // Every column past the hashed ones is `\N` or `{}` after a tab: 3 ASCII bytes each.
    const hash = rowHash(chunk.subarray(start, end - 3 * (count - hashedColumns)));
    end += chunk.write(`\t${hash}\n`, end);
    lines.commit(end);
    return { index: target.index, cdmId: row.cdm_id as string, version, hash, chunk, start, end };
  };
  // Generated from the repository's own model specs, never from input.
  const generated = new Function(
    ...Object.keys(scope),
    'tooLarge',
    'finish',
    `return function encode(row) {${body}\n};`,
  )(...Object.values(scope), tooLarge, finish) as (row: unknown) => EncodeResult;
  return (row, index, lines) => {
    target.index = index;
    target.lines = lines;
    return generated(row);
  };
}

/** The column whose text is the longest part of an oversized line, for the error. */
function largestField(line: string, columns: readonly Column[]): string {
  const parts = line.split('\t');
  let largest = 0;
  for (let c = 1; c < parts.length; c++) if (parts[c]!.length > parts[largest]!.length) largest = c;
  return columns[largest]?.name ?? '';
}
