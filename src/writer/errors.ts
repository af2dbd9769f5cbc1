/**
 * The writer's errors. Each has a stable `reason` (for metrics and logs) and says whether a retry by the
 * caller can help, so workers branch on data, never on message text (STYLE.md rule 9).
 */

/** Base class of every error the writer throws on purpose. */
export class WriterError extends Error {
  override readonly name: string = 'WriterError';
  constructor(
    /** Stable CamelCase reason, e.g. `NotProvisioned`. */
    readonly reason: string,
    message: string,
    /** True when calling again later may succeed without a code or data change. */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The endpoint configuration cannot be used by this library (wrong template, raw mode, bad identifier). */
export class InvalidEndpointError extends WriterError {
  override readonly name = 'InvalidEndpointError';
  constructor(
    /** Path of the offending setting, e.g. `parameters.schema`. */
    readonly field: string,
    message: string,
  ) {
    super('InvalidEndpoint', `${field}: ${message}`, false);
  }
}

/** A writer option is out of its range; the message names it and the range. */
export class InvalidOptionError extends WriterError {
  override readonly name = 'InvalidOptionError';
  constructor(
    /** The option, e.g. `maxRowBytes`. */
    readonly option: string,
    message: string,
  ) {
    super('InvalidOption', `${option}: ${message}`, false);
  }
}

/** The model is not supported by the template or not enabled for this endpoint. */
export class UnsupportedModelError extends WriterError {
  override readonly name = 'UnsupportedModelError';
  constructor(
    readonly modelId: string,
    readonly allowed: readonly string[],
    why: string,
  ) {
    super(
      'UnsupportedModel',
      `model '${modelId}' ${why}; this writer accepts: ${allowed.join(', ') || '(none)'}`,
      false,
    );
  }
}

/** How to fix a missing table or column; the writer itself never creates them. */
export const PROVISION_HINT =
  '`kubectl apply` the CdmSinkProvision for this sink, or run `cdm-sink apply -f <manifest>`';

/** What the provisioned check found wrong with one table. */
export interface ProvisioningProblem {
  readonly modelId: string;
  /** `schema.table` or `schema.table.column`. */
  readonly object: string;
  /** `missing table`, `missing column`, `type is text, expected bigint`, … */
  readonly problem: string;
}

/** Tables or columns the writer needs are missing or have the wrong type. */
export class NotProvisionedError extends WriterError {
  override readonly name = 'NotProvisionedError';
  constructor(readonly problems: readonly ProvisioningProblem[]) {
    const list = problems.map((p) => `${p.object} (${p.problem})`).join(', ');
    super('NotProvisioned', `sink is not provisioned: ${list}. To fix: ${PROVISION_HINT}.`, true);
  }

  /** The missing or mismatched objects, e.g. `cdm_work.cdm_work_item.labels`. */
  get missing(): string[] {
    return this.problems.map((p) => p.object);
  }
}

/** One field-level problem of one row. */
export interface FieldError {
  /** Top-level field name; `''` when the row itself is not an object. */
  readonly field: string;
  readonly reason: string;
}

/**
 * A row that failed validation, or that Postgres refused, located by its position in the input stream.
 */
export interface RejectedRow {
  /** 0-based position of the row in the input of this `write` call. */
  readonly index: number;
  /** The row's `cdm_id` when it had a string one. */
  readonly cdmId: string | undefined;
  /**
   * SQLSTATE when Postgres refused the row (class 22 or 23, e.g. `23514` for a CHECK constraint the
   * model does not know about); absent for rows the writer's own validation rejected.
   */
  readonly code?: string;
  readonly errors: readonly FieldError[];
}

/** A batch held invalid rows under `onInvalidRow: 'reject'`; nothing of that batch was written. */
export class InvalidRowsError extends WriterError {
  override readonly name = 'InvalidRowsError';
  constructor(
    readonly modelId: string,
    readonly rejected: readonly RejectedRow[],
    /** Rows of earlier batches of this call already processed (committed, or found unchanged/stale). */
    readonly committedRows: number,
  ) {
    const first = rejected
      .slice(0, 5)
      .map(
        (r) =>
          `row ${r.index}${r.cdmId === undefined ? '' : ` (cdm_id ${JSON.stringify(r.cdmId)})`}: ` +
          r.errors.map((e) => `${e.field || '(row)'} ${e.reason}`).join('; '),
      )
      .join(' | ');
    const more = rejected.length > 5 ? ` … and ${rejected.length - 5} more` : '';
    super('InvalidRows', `${rejected.length} invalid ${modelId} row(s): ${first}${more}`, false);
  }
}

/**
 * A batch could not be written: a non-transient database error, or transient ones beyond the retry
 * budget. With `commitUnknown`, the batch may nonetheless be in the table (see there).
 */
export class BatchWriteError extends WriterError {
  override readonly name = 'BatchWriteError';
  constructor(
    readonly modelId: string,
    /** Input positions of the first and last row of the failed batch. */
    readonly firstIndex: number,
    readonly lastIndex: number,
    readonly attempts: number,
    /** SQLSTATE or Node error code of the last failure, when there was one. */
    readonly code: string | undefined,
    retryable: boolean,
    /** Rows of earlier batches of this call already processed (committed, or found unchanged/stale). */
    readonly committedRows: number,
    cause: unknown,
    /**
     * An attempt sent the statement that commits the batch (`COMMIT`, or its single autocommitted
     * statement) and lost the connection before the reply: the batch's rows may be in the table, so
     * this error does not say they failed. Re-running the write is safe either way.
     */
    readonly commitUnknown: boolean = false,
  ) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      retryable ? 'TransientWriteFailure' : 'WriteFailed',
      `writing ${modelId} rows ${firstIndex}..${lastIndex} failed after ${attempts} attempt(s)` +
        `${code ? ` [${code}]` : ''}: ${detail}` +
        (commitUnknown
          ? "; the batch's COMMIT was sent but not confirmed, so its rows may be in the table"
          : '') +
        (retryable || commitUnknown ? '; the write is idempotent, so re-running it is safe' : ''),
      retryable,
      { cause },
    );
  }
}

/**
 * The database could not be reached before any row was written: refused or unreachable host, DNS
 * failure, authentication failure, unknown database. The message names `host:port/database` and what
 * to check, never the password or the connection URL.
 */
export class ConnectionFailedError extends WriterError {
  override readonly name = 'ConnectionFailedError';
  constructor(
    /** `host:port/database` of the sink as far as the writer knows it, e.g. `db.internal:5432/cdm`. */
    readonly target: string,
    /** SQLSTATE (`28P01`, `3D000`, …) or Node error code (`ECONNREFUSED`, `ENOTFOUND`, …), if any. */
    readonly code: string | undefined,
    retryable: boolean,
    /** What to check, e.g. `the user and password in connection_url`. */
    hint: string,
    cause: unknown,
  ) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      'ConnectionFailed',
      `cannot connect to the sink database ${target}${code ? ` [${code}]` : ''}: ${detail}. Check ${hint}.`,
      retryable,
      { cause },
    );
  }
}

/** A prepare worker thread crashed, exited or failed on a row; the write that used it fails. */
export class PrepareWorkerError extends WriterError {
  override readonly name = 'PrepareWorkerError';
  constructor(why: string, options?: { cause?: unknown }) {
    super('PrepareWorkerFailed', `prepare worker failed: ${why}`, false, options);
  }
}
