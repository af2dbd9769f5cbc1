import pg from 'pg';
import { defaultRegistry } from '../models/index.js';
import type { CdmModelId, RowOf } from '../models/row-types.generated.js';
import type { InsertVia } from './batch-types.js';
import { type BatchLimits, DEFAULT_BATCH_LIMITS } from './batches.js';
import {
  type ConnectionSettings,
  describeConnection,
  parseEndpoint,
  resolveLayout,
  type SinkEndpoint,
  type WriterLayout,
} from './endpoint.js';
import {
  BatchWriteError,
  InvalidOptionError,
  NotProvisionedError,
  type RejectedRow,
  UnsupportedModelError,
} from './errors.js';
import { compileModelTarget, type ModelTarget } from './model-target.js';
import { defaultPrepareThreads, PreparePool } from './prepare-pool.js';
import { DEFAULT_ROW_LIMITS, type RowLimits } from './prepare-row.js';
import { checkProvisioned } from './provisioned-check.js';
import { type RetryEvent, type RetryPolicy, retryPolicy } from './retry.js';
import { writeRows } from './write-rows.js';
import type { WriterPool } from './writer-pool.js';

/** Tuning shared by both ways of building a writer; every field has a measured default. */
export interface WriterTuning {
  /** Distinct rows per batch (one transaction each). Default 5,000. */
  readonly batchRows?: number;
  /** Approximate bytes per batch. Default 16 MiB. */
  readonly batchBytes?: number;
  /**
   * Retry policy for transient failures. Default: 6 attempts, 100 ms doubling to at most 5 s; a field
   * left out or `undefined` keeps its default.
   */
  readonly retry?: Partial<RetryPolicy>;
  /**
   * How rows absent from the table are inserted: `copy` (default; `COPY` into the table itself, the
   * fastest path) or `upsert` (through the same `INSERT … ON CONFLICT` as changed rows).
   */
  readonly insertVia?: InsertVia;
  /** Called before each retry of a batch, e.g. to log or count it. */
  readonly onRetry?: (event: RetryEvent) => void;
  /**
   * Largest row accepted, in bytes of its encoded line (UTF-8 text with COPY's escapes, JSON as text).
   * A larger row is an invalid row (`rejected` with `skip`), refused before it is escaped or serialised,
   * so one row can never exhaust the process. Default 16 MiB; 1 KiB to 256 MiB (jsonb's own limit).
   */
  readonly maxRowBytes?: number;
  /**
   * Worker threads that prepare rows (validate, encode, hash) for writes longer than one batch, so a
   * re-sync uses more than one core. Default: cores − 2 (one core for this thread, one for the
   * database), at most 4: none on 2 cores, where a worker measured slower than none (it competes with
   * Postgres), and never more than 4, past which this thread, which clones every row to a worker, is
   * the limit. `0` prepares every row on this thread. Workers start on the first write longer than one
   * batch and end with `close()`.
   */
  readonly prepareThreads?: number;
}

const MAX_ROW_BYTES_RANGE = [1 << 10, 256 << 20] as const;

/** Checks the tuning the writer cannot start without; a mistake here is a configuration bug. */
function checkTuning(options: WriterTuning): void {
  const [min, max] = MAX_ROW_BYTES_RANGE;
  const { maxRowBytes, prepareThreads } = options;
  if (
    maxRowBytes !== undefined &&
    !(Number.isInteger(maxRowBytes) && maxRowBytes >= min && maxRowBytes <= max)
  ) {
    throw new InvalidOptionError(
      'maxRowBytes',
      `must be a whole number of bytes from ${min} to ${max} (got ${maxRowBytes})`,
    );
  }
  if (
    prepareThreads !== undefined &&
    !(Number.isInteger(prepareThreads) && prepareThreads >= 0 && prepareThreads <= 64)
  ) {
    throw new InvalidOptionError(
      'prepareThreads',
      `must be a whole number from 0 (off) to 64 (got ${prepareThreads})`,
    );
  }
}

/** Options of `new CdmSinkWriter(...)`: a pool you own, plus where to write. */
export interface CdmSinkWriterOptions extends WriterTuning {
  /**
   * A pool the writer borrows connections from, e.g. a node-postgres `pg.Pool`; `close()` does not end
   * it. Give it an `error` listener: an idle pooled connection that dies emits `error` on the pool,
   * which crashes a process without one.
   */
  readonly pool: WriterPool;
  /** Default `cdm_work`. */
  readonly schema?: string;
  /** Default `cdm_`. */
  readonly tablePrefix?: string;
  /** Models this writer may write; default: every model of template `cdm.jdbc`. */
  readonly models?: readonly CdmModelId[];
}

/** Options of `CdmSinkWriter.fromEndpoint`. */
export interface FromEndpointOptions extends WriterTuning {
  /** Share an existing pool instead of opening one from `connection_url` (then `close()` leaves it open). */
  readonly pool?: WriterPool;
  /** Connections of the pool the writer opens. Default 4. */
  readonly poolSize?: number;
  /** `application_name` of the writer's connections. Default `cdm-sink-writer`. */
  readonly applicationName?: string;
}

export interface WriteOptions<M extends CdmModelId = CdmModelId> {
  /**
   * `reject` (default): a batch holding an invalid row, or a row Postgres refuses (SQLSTATE class 22
   * or 23, e.g. a CHECK constraint added to the table), fails with an `InvalidRowsError` and nothing
   * of that batch is written. `skip`: the other rows are written and those returned in `rejected`.
   */
  readonly onInvalidRow?: 'reject' | 'skip';
  /**
   * Called after each batch is settled (committed, or found to need nothing), e.g. to log progress.
   * It runs between batches, with none in flight: if it throws, `write` rejects with that error, the
   * batch it reported stays committed and no later batch is sent (`rowsDone` said how far it got).
   */
  readonly onProgress?: (progress: WriteProgress<M>) => void;
}

/** How far a `write` call got, for `WriteOptions.onProgress`. */
export interface WriteProgress<M extends CdmModelId = CdmModelId> {
  readonly modelId: M;
  /** Input rows whose outcome is known so far: written, unchanged, stale or rejected. */
  readonly rowsDone: number;
  /** `rowsDone` per second since the call started, rounded. */
  readonly rowsPerSecond: number;
}

/** What one `write` call did. `received = inserted + updated + unchanged + stale + rejected.length`. */
export interface WriteResult<M extends CdmModelId = CdmModelId> {
  readonly modelId: M;
  /** Rows read from the input. */
  readonly received: number;
  readonly inserted: number;
  readonly updated: number;
  /**
   * Rows whose stored content was already identical (not rewritten), plus duplicates of a `cdm_id` that
   * lost to another row of the same batch (an older one, or an earlier one on a tie).
   */
  readonly unchanged: number;
  /**
   * Rows older (`updated_at`) than the stored row, which was kept; also rows with a null `updated_at`
   * whose stored row has one.
   */
  readonly stale: number;
  /**
   * Invalid rows and rows Postgres refused (those have `code`, the SQLSTATE), in input order; only with
   * `onInvalidRow: 'skip'`.
   */
  readonly rejected: readonly RejectedRow[];
}

/**
 * Writes CDM-shaped rows into provisioned sink tables: validated, change-aware, idempotent upserts.
 *
 * How: each row is checked and encoded in one pass (code generated once per model from the same fields
 * as its JSON Schema; the Ajv validator of that schema runs only for refused rows, to name every bad
 * field), into its canonical COPY text, and hashed into `_row_hash`. With `prepareThreads`, rows past
 * the first batch are prepared on worker threads, in input order. Batches are de-duplicated and sorted
 * by `cdm_id`. Per batch, one lookup fetches the stored hashes and versions of its keys; new rows go in with `COPY` into the table
 * itself, changed rows with one set-based upsert whose `WHERE` re-checks change and version; unchanged
 * and stale rows are not sent at all. Batch N executes while batch N+1 is prepared.
 *
 * Guarantees:
 * - every row is validated before anything of its batch is sent;
 * - no row can exhaust the process: one larger than `maxRowBytes` (16 MiB by default), or a decimal
 *   with more digits than `numeric` holds, is an invalid row naming its field, refused before anything
 *   of its size is escaped or serialised;
 * - upsert on `cdm_id`; an unchanged row is never sent, so it gets no new tuple, no lock and no WAL, and
 *   keeps its `synced_at`; `synced_at` moves only on real content changes;
 * - a row whose stored `updated_at` is later than the incoming one is kept (counted as `stale`), also
 *   when that newer row lands between the batch's lookup and its upsert (the upsert's guard keeps it,
 *   and the row is re-read in the same transaction to tell `stale` from `unchanged`);
 * - duplicates of a `cdm_id` inside one call: the newest `updated_at` wins, the later one on a tie; a
 *   null `updated_at` ranks below any timestamp (so between two nulls, and for a model without
 *   `updated_at`, the later row wins). Timestamps compare as instants, whatever their offset. The same
 *   order decides within a batch and against the stored row, so it holds across batches too;
 * - one transaction per batch, rows sorted by `cdm_id` (concurrent writers do not deadlock); transient
 *   failures (SQLSTATE 08xxx, 40001, 40P01, 57P0x, lost connections) are retried on a fresh connection
 *   with capped exponential backoff, and a replay never duplicates;
 * - exact counts after a lost COMMIT: when the connection dies after the statement that commits a
 *   batch was sent, the retry counts the rows it finds stored with their own content as what the lost
 *   attempt did (inserted or updated), not as unchanged; out of retries, `BatchWriteError` has
 *   `commitUnknown: true` and says the rows may be in the table;
 * - rows Postgres refuses (SQLSTATE class 22 or 23: a CHECK, NOT NULL, foreign key or other unique
 *   index, or a trigger, that the model does not know about) are isolated by bisection: the batch is
 *   replayed in one transaction with a savepoint per sub-range, halving a refused range down to single
 *   rows. `skip` commits the others and returns the refused ones in `rejected` with their SQLSTATE
 *   (`code`) and the server's message (never its DETAIL, which can echo the row); `reject` rolls the
 *   batch back and throws `InvalidRowsError` naming them. A `23505` on COPY still means a concurrent
 *   insert (the batch is replayed as upserts); from the upsert it is another unique index, a row's fault;
 * - memory is bounded by the batch limits and the prepare workers' bounded queues whatever the input
 *   size (two batches at most, encoded
 *   outside the V8 heap); the input is read lazily;
 * - never issues DDL (no temp or stage tables); `assertProvisioned` is one read-only catalog query.
 *
 * Caveats:
 * - a failed call may have committed earlier batches: batches commit one by one, and errors say how
 *   many rows of the call were already processed (`committedRows`). Re-running the whole call is safe
 *   and cheap, because committed rows come back as unchanged;
 * - a duplicate dropped inside a batch counts as `unchanged`, one dropped against a row an earlier batch
 *   stored counts as `stale`: which it is depends on where batches are cut, the stored row does not;
 * - after a lost COMMIT, a row that another writer stored with identical content in the meantime is
 *   counted as the lost attempt's insert or update rather than as unchanged (the writer cannot tell);
 * - isolating refused rows costs a few round trips per refused row (about 4 × log2 of the batch size);
 *   a constraint every row violates (say a new NOT NULL column without a default) refuses the whole
 *   input row by row, slowly: with `reject` the first batch fails; with `skip` each batch is bisected;
 * - a batch with changed rows always runs in a transaction (`BEGIN`/`COMMIT`), so that the rows the
 *   upsert's guard kept can be re-read under its locks; a batch of new rows only is one `COPY`; * - with `onInvalidRow: 'skip'`, the rejected rows' reports are kept for the result (small, but they
 *   grow with the number of invalid rows).
 *
 * Errors: `InvalidEndpointError` (construction, e.g. an `sslmode` node-postgres does not support),
 * `UnsupportedModelError`, `ConnectionFailedError` (the database cannot be reached before the first
 * batch; `retryable` unless authentication or the database name is wrong), `NotProvisionedError`,
 * `InvalidRowsError` (invalid or refused rows under `reject`), `BatchWriteError` (with `retryable`,
 * `commitUnknown`, SQLSTATE `code` and the failed row range).
 *
 * @example
 * ```ts
 * const writer = CdmSinkWriter.fromEndpoint({
 *   templateId: 'cdm.jdbc',
 *   parameters: { connection_url: process.env.SINK_URL, schema: 'cdm_work', table_prefix: 'cdm_' },
 * });
 * await writer.assertProvisioned(['cdm.work.item']);
 * const r = await writer.write('cdm.work.item', mapIssues(jiraPages), {
 *   onInvalidRow: 'skip',
 *   onProgress: (p) => console.error(`${p.modelId}: ${p.rowsDone} rows, ${p.rowsPerSecond}/s`),
 * });
 * // r: { modelId, received, inserted, updated, unchanged, stale, rejected: [{ index, cdmId, code?, errors }] }
 * await writer.close();
 * ```
 * Per batch this sends (see `upsert-sql.ts` for the full statements):
 * ```sql
 * SELECT t."cdm_id", t."_row_hash", to_char(t."updated_at" AT TIME ZONE 'UTC', …)
 *   FROM "cdm_work"."cdm_work_item" AS t WHERE t."cdm_id" = ANY($1::text[]);
 * BEGIN;  -- only when the batch has changed rows
 * COPY "cdm_work"."cdm_work_item" ("cdm_id", "properties", …, "_row_hash") FROM STDIN;
 * INSERT INTO "cdm_work"."cdm_work_item" AS t (…) SELECT … FROM unnest($1::text[], …) AS u(…)
 *   ON CONFLICT ("cdm_id") DO UPDATE SET … WHERE (t.…) IS DISTINCT FROM (EXCLUDED.…)
 *   AND (t."updated_at" IS NULL OR t."updated_at" <= EXCLUDED."updated_at")
 *   RETURNING t."cdm_id" AS cdm_id, (t.xmax = 0) AS inserted;
 * SELECT …  -- the lookup again, only for rows the upsert's WHERE kept
 * COMMIT;
 * ```
 */
export class CdmSinkWriter {
  readonly layout: WriterLayout;
  private readonly pool: WriterPool;
  /** The pool `fromEndpoint` opened, which `close()` ends; a pool passed in is the caller's. */
  private ownedPool: pg.Pool | undefined;
  private readonly limits: BatchLimits;
  private readonly retry: RetryPolicy;
  private readonly insertVia: InsertVia;
  private readonly onRetry: ((event: RetryEvent) => void) | undefined;
  private readonly rowLimits: RowLimits;
  private readonly prepareThreads: number;
  private readonly targets = new Map<CdmModelId, ModelTarget>();
  /** One per model written with more than one batch, started lazily. */
  private readonly preparePools = new Map<CdmModelId, PreparePool>();
  private readonly provisioned = new Set<CdmModelId>();
  /** `host:port/database`, for connection errors. */
  private readonly connectionTarget: string;
  private closed = false;

  /** A writer over a pool you own; validates schema, prefix and models. */
  constructor(options: CdmSinkWriterOptions) {
    this.layout = resolveLayout(options, { schema: 'schema', tablePrefix: 'tablePrefix', models: 'models' });
    checkTuning(options);
    this.pool = options.pool;
    this.rowLimits = { maxRowBytes: options.maxRowBytes ?? DEFAULT_ROW_LIMITS.maxRowBytes };
    this.prepareThreads = options.prepareThreads ?? defaultPrepareThreads();
    this.limits = {
      ...DEFAULT_BATCH_LIMITS,
      ...(options.batchRows ? { maxRows: options.batchRows } : {}),
      ...(options.batchBytes ? { maxBytes: options.batchBytes } : {}),
    };
    this.retry = retryPolicy(options.retry);
    this.insertVia = options.insertVia ?? 'copy';
    this.onRetry = options.onRetry;
    // A node-postgres pool keeps its settings in `options`; another WriterPool may have none.
    this.connectionTarget = describeConnection((options.pool as { options?: ConnectionSettings }).options);
  }

  /**
   * A writer for a sink endpoint of template `cdm.jdbc`.
   *
   * Errors: `InvalidEndpointError` for another template, `mode: 'raw'` (raw units go to their raw
   * path), a missing or malformed `connection_url`, an invalid schema or prefix, or unsupported models.
   */
  static fromEndpoint(endpoint: SinkEndpoint, options: FromEndpointOptions = {}): CdmSinkWriter {
    const settings = parseEndpoint(endpoint, options.pool !== undefined);
    const layout = { schema: settings.schema, tablePrefix: settings.tablePrefix, models: settings.models };
    if (options.pool) return new CdmSinkWriter({ ...options, ...layout, pool: options.pool });
    const pool = new pg.Pool({
      connectionString: settings.connectionUrl,
      max: options.poolSize ?? 4,
      application_name: options.applicationName ?? 'cdm-sink-writer',
    });
    // An idle pooled client whose server connection dies emits 'error' on the pool; the pool drops the
    // client, and the next batch simply gets a new one. Without a listener the process would crash.
    pool.on('error', () => {});
    const writer = new CdmSinkWriter({ ...options, ...layout, pool });
    writer.ownedPool = pool;
    return writer;
  }

  /** Checks `modelId` at run time too: JavaScript callers can pass any value. */
  private target(modelId: CdmModelId): ModelTarget {
    if (this.closed) throw new Error('CdmSinkWriter is closed');
    const cached = this.targets.get(modelId);
    if (cached) return cached;
    if (!this.layout.models.includes(modelId)) {
      const why = defaultRegistry.has(modelId)
        ? 'is not enabled for this endpoint (parameters.models)'
        : 'is not supported by template cdm.jdbc';
      throw new UnsupportedModelError(modelId, this.layout.models, why);
    }
    const target = compileModelTarget(
      defaultRegistry.get(modelId),
      this.layout.schema,
      this.layout.tablePrefix,
      this.rowLimits,
    );
    this.targets.set(modelId, target);
    return target;
  }

  /**
   * Checks, with one read-only catalog query, that the tables of `modelIds` (default: all this writer
   * may write) exist with every column at the right type and a unique key on `cdm_id`.
   *
   * Errors: `NotProvisionedError` listing each missing `schema.table` or `schema.table.column` and how
   * to provision the sink; `UnsupportedModelError` for a model this writer does not accept;
   * `ConnectionFailedError` when the database cannot be reached (refused, unknown host, authentication,
   * unknown database), naming `host:port/database` and what to check.
   */
  async assertProvisioned(modelIds: readonly CdmModelId[] = this.layout.models): Promise<void> {
    const targets = modelIds.map((id) => this.target(id));
    const problems = await checkProvisioned(
      this.pool,
      targets.map((t) => ({ model: t.model, schema: t.schema, table: t.table })),
      this.connectionTarget,
    );
    if (problems.length > 0) throw new NotProvisionedError(problems);
    for (const id of modelIds) this.provisioned.add(id);
  }

  /**
   * Validates and upserts `rows` of `modelId`, batch by batch; see the class comment for guarantees.
   * `rows` may be any iterable or async iterable; it is read lazily (backpressure), never buffered whole.
   * Rows are typed per model (`RowOf<M>`, e.g. `CdmWorkItemRow`) and validated at run time all the
   * same, for JavaScript callers and for what types cannot say (formats, ranges, NUL characters).
   *
   * Errors: `InvalidRowsError` (`reject` mode; earlier batches of this call stay committed),
   * `NotProvisionedError` or `ConnectionFailedError` before the first batch, `BatchWriteError` when a
   * batch cannot be written, whatever `onProgress` throws.
   */
  async write<M extends CdmModelId>(
    modelId: M,
    rows: Iterable<RowOf<M>> | AsyncIterable<RowOf<M>>,
    options: WriteOptions<M> = {},
  ): Promise<WriteResult<M>> {
    const target = this.target(modelId);
    if (!this.provisioned.has(modelId)) await this.assertProvisioned([modelId]);
    const { onProgress } = options;
    try {
      const totals = await writeRows(
        {
          pool: this.pool,
          target,
          limits: this.limits,
          retry: this.retry,
          insertVia: this.insertVia,
          skipInvalid: options.onInvalidRow === 'skip',
          onRetry: this.onRetry,
          preparePool: this.preparePool(modelId),
          onProgress: onProgress && ((progress) => onProgress({ modelId, ...progress })),
        },
        rows,
      );
      return { modelId, ...totals };
    } catch (error) {
      // The table or a column vanished since the check: check again before the next write.
      if (error instanceof BatchWriteError && (error.code === '42P01' || error.code === '42703')) {
        this.provisioned.delete(modelId);
      }
      throw error;
    }
  }

  /** The model's prepare workers; created here, started by the first write longer than one batch. */
  private preparePool(modelId: CdmModelId): PreparePool | undefined {
    if (this.prepareThreads === 0) return undefined;
    let pool = this.preparePools.get(modelId);
    if (!pool) {
      pool = new PreparePool({ modelId, threads: this.prepareThreads, limits: this.rowLimits });
      this.preparePools.set(modelId, pool);
    }
    return pool;
  }

  /** Stops the prepare workers, and ends the pool if the writer opened it; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.preparePools.values()].map((pool) => pool.close()));
    await this.ownedPool?.end();
  }
}
