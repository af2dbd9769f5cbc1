import pg from 'pg';
import { defaultRegistry } from '../models/index.js';
import type { CdmModelId, RowOf } from '../models/row-types.generated.js';
import type { InsertVia } from './batch-types.js';
import { type BatchLimits, DEFAULT_BATCH_LIMITS } from './batches.js';
import { parseEndpoint, resolveLayout, type SinkEndpoint, type WriterLayout } from './endpoint.js';
import { BatchWriteError, NotProvisionedError, type RejectedRow, UnsupportedModelError } from './errors.js';
import { compileModelTarget, type ModelTarget } from './model-target.js';
import { provisioningProblems } from './provisioned-check.js';
import { DEFAULT_RETRY_POLICY, type RetryEvent, type RetryPolicy } from './retry.js';
import { writeRows } from './write-rows.js';
import type { WriterPool } from './writer-pool.js';

/** Tuning shared by both ways of building a writer; every field has a measured default. */
export interface WriterTuning {
  /** Distinct rows per batch (one transaction each). Default 5,000. */
  readonly batchRows?: number;
  /** Approximate bytes per batch. Default 16 MiB. */
  readonly batchBytes?: number;
  /** Retry policy for transient failures. Default: 6 attempts, 100 ms doubling to at most 5 s. */
  readonly retry?: Partial<RetryPolicy>;
  /**
   * How rows absent from the table are inserted: `copy` (default; `COPY` into the table itself, the
   * fastest path) or `upsert` (through the same `INSERT … ON CONFLICT` as changed rows).
   */
  readonly insertVia?: InsertVia;
  /** Called before each retry of a batch, e.g. to log or count it. */
  readonly onRetry?: (event: RetryEvent) => void;
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

export interface WriteOptions {
  /**
   * `reject` (default): a batch holding an invalid row fails before any of it is written, with an
   * `InvalidRowsError`. `skip`: valid rows are written and the invalid ones returned in `rejected`.
   */
  readonly onInvalidRow?: 'reject' | 'skip';
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
  /** Invalid rows (only with `onInvalidRow: 'skip'`). */
  readonly rejected: readonly RejectedRow[];
}

/**
 * Writes CDM-shaped rows into provisioned sink tables: validated, change-aware, idempotent upserts.
 *
 * How: each row is validated (the model's JSON Schema, compiled once), encoded once into its canonical
 * COPY text and hashed into `_row_hash`; batches are de-duplicated and sorted by `cdm_id`. Per batch, one
 * lookup fetches the stored hashes and versions of its keys; new rows go in with `COPY` into the table
 * itself, changed rows with one set-based upsert whose `WHERE` re-checks change and version; unchanged
 * and stale rows are not sent at all. Batch N executes while batch N+1 is prepared.
 *
 * Guarantees:
 * - every row is validated before anything of its batch is sent;
 * - upsert on `cdm_id`; an unchanged row is never sent, so it gets no new tuple, no lock and no WAL, and
 *   keeps its `synced_at`; `synced_at` moves only on real content changes;
 * - a row whose stored `updated_at` is later than the incoming one is kept (counted as `stale`);
 * - duplicates of a `cdm_id` inside one call: the newest `updated_at` wins, the later one on a tie; a
 *   null `updated_at` ranks below any timestamp (so between two nulls, and for a model without
 *   `updated_at`, the later row wins). Timestamps compare as instants, whatever their offset. The same
 *   order decides within a batch and against the stored row, so it holds across batches too;
 * - one transaction per batch, rows sorted by `cdm_id` (concurrent writers do not deadlock); transient
 *   failures (SQLSTATE 08xxx, 40001, 40P01, 57P0x, lost connections) are retried on a fresh connection
 *   with capped exponential backoff, and a replay never duplicates;
 * - memory is bounded by the batch limits whatever the input size (two batches at most, encoded
 *   outside the V8 heap); the input is read lazily;
 * - never issues DDL (no temp or stage tables); `assertProvisioned` is one read-only catalog query.
 *
 * Caveats:
 * - a failed call may have committed earlier batches: batches commit one by one, and errors say how
 *   many rows of the call were already processed (`committedRows`). Re-running the whole call is safe
 *   and cheap, because committed rows come back as unchanged;
 * - a duplicate dropped inside a batch counts as `unchanged`, one dropped against a row an earlier batch
 *   stored counts as `stale`: which it is depends on where batches are cut, the stored row does not;
 * - after a retried COMMIT whose outcome was unknown, rows it committed are counted as unchanged;
 * - with `onInvalidRow: 'skip'`, the rejected rows' reports are kept for the result (small, but they
 *   grow with the number of invalid rows).
 *
 * Errors: `InvalidEndpointError` (construction), `UnsupportedModelError`, `NotProvisionedError`,
 * `InvalidRowsError`, `BatchWriteError` (with `retryable`, SQLSTATE `code` and the failed row range).
 *
 * @example
 * ```ts
 * const writer = CdmSinkWriter.fromEndpoint({
 *   templateId: 'cdm.jdbc',
 *   parameters: { connection_url: process.env.SINK_URL, schema: 'cdm_work', table_prefix: 'cdm_' },
 * });
 * await writer.assertProvisioned(['cdm.work.item']);
 * const r = await writer.write('cdm.work.item', mapIssues(jiraPages), { onInvalidRow: 'skip' });
 * // r: { modelId, received, inserted, updated, unchanged, stale, rejected: [{ index, cdmId, errors }] }
 * await writer.close();
 * ```
 * Per batch this sends (see `upsert-sql.ts` for the full statements):
 * ```sql
 * SELECT t."cdm_id", t."_row_hash", to_char(t."updated_at" AT TIME ZONE 'UTC', …)
 *   FROM "cdm_work"."cdm_work_item" AS t WHERE t."cdm_id" = ANY($1::text[]);
 * BEGIN;  -- only when the batch has both new and changed rows
 * COPY "cdm_work"."cdm_work_item" ("cdm_id", "properties", …, "_row_hash") FROM STDIN;
 * INSERT INTO "cdm_work"."cdm_work_item" AS t (…) SELECT … FROM unnest($1::text[], …) AS u(…)
 *   ON CONFLICT ("cdm_id") DO UPDATE SET … WHERE (t.…) IS DISTINCT FROM (EXCLUDED.…)
 *   AND (t."updated_at" IS NULL OR t."updated_at" <= EXCLUDED."updated_at") RETURNING (t.xmax = 0) AS inserted;
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
  private readonly targets = new Map<CdmModelId, ModelTarget>();
  private readonly provisioned = new Set<CdmModelId>();
  private closed = false;

  /** A writer over a pool you own; validates schema, prefix and models. */
  constructor(options: CdmSinkWriterOptions) {
    this.layout = resolveLayout(options, { schema: 'schema', tablePrefix: 'tablePrefix', models: 'models' });
    this.pool = options.pool;
    this.limits = {
      ...DEFAULT_BATCH_LIMITS,
      ...(options.batchRows ? { maxRows: options.batchRows } : {}),
      ...(options.batchBytes ? { maxBytes: options.batchBytes } : {}),
    };
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.insertVia = options.insertVia ?? 'copy';
    this.onRetry = options.onRetry;
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
    );
    this.targets.set(modelId, target);
    return target;
  }

  /**
   * Checks, with one read-only catalog query, that the tables of `modelIds` (default: all this writer
   * may write) exist with every column at the right type and a unique key on `cdm_id`.
   *
   * Errors: `NotProvisionedError` listing each missing `schema.table` or `schema.table.column` and how
   * to provision the sink; `UnsupportedModelError` for a model this writer does not accept.
   */
  async assertProvisioned(modelIds: readonly CdmModelId[] = this.layout.models): Promise<void> {
    const targets = modelIds.map((id) => this.target(id));
    const problems = await provisioningProblems(
      this.pool,
      targets.map((t) => ({ model: t.model, schema: t.schema, table: t.table })),
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
   * `NotProvisionedError` before the first batch, `BatchWriteError` when a batch cannot be written.
   */
  async write<M extends CdmModelId>(
    modelId: M,
    rows: Iterable<RowOf<M>> | AsyncIterable<RowOf<M>>,
    options: WriteOptions = {},
  ): Promise<WriteResult<M>> {
    const target = this.target(modelId);
    if (!this.provisioned.has(modelId)) await this.assertProvisioned([modelId]);
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

  /** Ends the pool if the writer opened it; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ownedPool?.end();
  }
}
