import type { ModelSpec } from '../models/index.js';
import type { PrepareRow } from './batches.js';
import { rowEncoder } from './encode-row.js';
import type { RejectedRow } from './errors.js';
import { rowValidator } from './validate-rows.js';

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

/** The per-row preparation of `model`: validate, then encode into the batch's lines and hash. */
export function rowPreparer(model: ModelSpec, _limits: RowLimits = DEFAULT_ROW_LIMITS): PrepareRow {
  const validate = rowValidator(model);
  const encode = rowEncoder(model);
  return (row, index, lines) => {
    const errors = validate(row);
    if (errors) return { index, cdmId: cdmIdOf(row), errors } satisfies RejectedRow;
    return encode(row as Record<string, unknown>, index, lines);
  };
}
