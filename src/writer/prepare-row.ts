import type { ModelSpec } from '../models/index.js';
import type { PrepareRow } from './batches.js';
import { rowEncoder } from './encode-row.js';
import type { RejectedRow } from './errors.js';
import { type RowValidator, rowValidator } from './validate-rows.js';

/** Bounds on one row, so no single row can exhaust the process. */
export interface RowLimits {
  /** Largest row content accepted, in UTF-8 bytes of its text and JSON (default 16 MiB). */
  readonly maxRowBytes: number;
}

export const DEFAULT_ROW_LIMITS: RowLimits = Object.freeze({ maxRowBytes: 16 << 20 });

function cdmIdOf(row: unknown): string | undefined {
  const id = typeof row === 'object' && row !== null ? (row as { cdm_id?: unknown }).cdm_id : undefined;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The per-row preparation of `model`: check and encode into the batch's lines and hash, in one pass
 * (`rowEncoder`); a row it refuses goes to the Ajv validator compiled from the row schema, which says
 * what is wrong with every field.
 */
export function rowPreparer(model: ModelSpec, limits: RowLimits = DEFAULT_ROW_LIMITS): PrepareRow {
  const encode = rowEncoder(model, limits.maxRowBytes);
  // Compiled on the first refused row: most writes never need it.
  let validate: RowValidator | undefined;
  return (row, index, lines) => {
    const encoded = encode(row, index, lines);
    if (encoded !== undefined && 'hash' in encoded) return encoded;
    if (encoded !== undefined) return { index, cdmId: cdmIdOf(row), errors: [encoded] } satisfies RejectedRow;
    validate ??= rowValidator(model);
    const errors = validate(row);
    // The encoder refused what the row schema accepts: a writer bug, never a reason to drop a row.
    if (!errors)
      throw new Error(
        `cdm-sink writer: ${model.id} row ${index} passes the row schema but not the encoder's checks; please report this`,
      );
    return { index, cdmId: cdmIdOf(row), errors } satisfies RejectedRow;
  };
}
