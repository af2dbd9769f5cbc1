import type { FieldSpec, LogicalType, ModelSpec } from '../models/index.js';
import { canonicalJson } from './canonical-json.js';
import { arrayLiteral, COPY_NULL, copyEscape } from './copy-encoding.js';
import { type LineBuffer, type LineRef, maxUtf8Bytes } from './line-buffer.js';
import { rowHash } from './row-hash.js';
import { rowFields } from './row-schema.js';
import { normalizeTimestamp } from './timestamps.js';

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

/** Canonical COPY text of one value, or null for SQL NULL. Defaults are spelt `{}` like the column's. */
function encodeValue(type: LogicalType, v: unknown): string | null {
  // One switch rather than a table of closures: the call site stays monomorphic, which measured faster.
  if (v == null) return type === 'string_array' || type === 'json_object' ? '{}' : null;
  switch (type) {
    case 'string':
      return copyEscape(v as string);
    case 'boolean':
      return v ? 't' : 'f';
    // bigint: `7`, `"7"` and `"007"` are the same value.
    case 'integer':
      return typeof v === 'number' ? String(v) : BigInt(v as string).toString();
    case 'number':
      return String(v);
    // Validated digits and dashes: nothing to escape.
    case 'date':
      return v as string;
    // Always UTC with six fraction digits, so one instant has one spelling.
    case 'timestamp':
      return normalizeTimestamp(v as string)!;
    case 'string_array':
      return (v as unknown[]).length === 0 ? '{}' : copyEscape(arrayLiteral(v as string[]));
    case 'json_object':
      return copyEscape(canonicalJson(v));
  }
}

/** Encodes a valid row into `lines`; `index` is its input position. */
export type RowEncoder = (
  row: Readonly<Record<string, unknown>>,
  index: number,
  lines: LineBuffer,
) => EncodedRow;

/** The encoder of `model`, for rows its validator accepted. */
export function rowEncoder(model: ModelSpec): RowEncoder {
  const columns = lineColumns(model);
  const names = columns.map((f) => f.name);
  const types = columns.map((f) => f.type);
  const hasDefault = columns.map((f) => f.default !== undefined);
  const versionIndex = columns.findIndex((f) => f.name === 'updated_at' && f.type === 'timestamp');
  const count = columns.length;
  return (row, index, lines) => {
    // Parts joined once give a flat string; `+=` would build a rope that writing into the buffer must
    // first flatten (measured: the single most expensive step of encoding).
    const parts: string[] = new Array(count);
    // Columns from `hashedCount` on are null or default: sent, but left out of the hash.
    let hashedCount = 0;
    let version: string | null = null;
    for (let c = 0; c < count; c++) {
      const text = encodeValue(types[c]!, row[names[c]!]);
      if (c === versionIndex) version = text;
      if (text === null) {
        parts[c] = COPY_NULL;
      } else {
        parts[c] = text;
        if (!(hasDefault[c] && text === '{}')) hashedCount = c + 1;
      }
    }
    const hashed = hashedCount === count ? parts.join('\t') : parts.slice(0, hashedCount).join('\t');
    const rest = hashedCount === count ? '' : `\t${parts.slice(hashedCount).join('\t')}`;
    const { chunk, start } = lines.reserve(maxUtf8Bytes(hashed) + maxUtf8Bytes(rest) + 64);
    let end = start + chunk.write(hashed, start);
    const hash = rowHash(chunk.subarray(start, end));
    end += chunk.write(`${rest}\t${hash}\n`, end);
    lines.commit(end);
    return { index, cdmId: row.cdm_id as string, version, hash, chunk, start, end };
  };
}
