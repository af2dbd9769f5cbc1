import type pg from 'pg';
import { OperatorError } from '../errors/index.js';
import { classifyDbError } from '../postgres/db-errors.js';
import { withDedicatedClient } from '../postgres/dedicated-client.js';
import { canonicalJson } from '../postgres/hash.js';
import { quoteIdent } from '../postgres/identifiers.js';
import { catalogDdl } from './catalog-ddl.js';
import type { DatasetRecord } from './dataset-record.js';

const CATALOG_LOCK_SQL =
  "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('cdm-sink-operator'), pg_catalog.hashtext('catalog:' || $1))";

/** A `catalog.dataset` row as stored. */
export interface StoredDataset extends DatasetRecord {
  readonly schema_version: number;
  readonly status: 'active' | 'deleted';
  readonly created_at: Date;
  readonly updated_at: Date;
  readonly deleted_at: Date | null;
}

export type CatalogChange = 'register' | 'update' | 'revive' | 'markDeleted';

/** The columns the reconcile owns; everything else (times, version, status) is the store's. */
const RECORD_COLUMNS = [
  'dataset_id',
  'model_id',
  'model_version',
  'sink_endpoint_id',
  'display_name',
  'description',
  'platform',
  'host',
  'port',
  'database_name',
  'schema_name',
  'table_name',
  'physical_location',
  'urn',
  'ol_namespace',
  'ol_name',
  'domain',
  'labels',
  'schema',
  'schema_hash',
] as const satisfies readonly (keyof DatasetRecord)[];

const JSON_COLUMNS = new Set<string>(['labels', 'schema']);
const COLUMN_TYPES: Partial<Record<(typeof RECORD_COLUMNS)[number], string>> = {
  port: 'integer',
  labels: 'jsonb',
  schema: 'jsonb',
};

/** What registering `desired` would change, per dataset; unchanged datasets are absent. Pure. */
export function catalogChanges(
  desired: readonly DatasetRecord[],
  stored: readonly StoredDataset[],
): Map<string, CatalogChange> {
  const byId = new Map(stored.map((s) => [s.dataset_id, s]));
  const changes = new Map<string, CatalogChange>();
  for (const record of desired) {
    const current = byId.get(record.dataset_id);
    if (!current) changes.set(record.dataset_id, 'register');
    else if (current.status === 'deleted') changes.set(record.dataset_id, 'revive');
    else if (
      RECORD_COLUMNS.some((c) =>
        JSON_COLUMNS.has(c)
          ? canonicalJson(current[c]) !== canonicalJson(record[c])
          : current[c] !== record[c],
      )
    ) {
      changes.set(record.dataset_id, 'update');
    }
  }
  return changes;
}

function isMissingRelation(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return code === '42P01' || code === '3F000';
}

function catalogError(error: unknown, context: string): OperatorError {
  const classified = classifyDbError(error, context);
  // Anything but a connection or permission problem is the catalog's own failure.
  return classified.reason === 'ApplyFailed'
    ? new OperatorError('CatalogError', classified.message, true, { cause: error })
    : classified;
}

/**
 * The dataset catalog in Postgres. Reads never create anything; registration creates the catalog
 * table on first use and otherwise writes only rows that differ, so re-registering leaves
 * `updated_at` alone and `schema_version` rises only when `schema_hash` changes.
 */
export class CatalogStore {
  readonly #pool: pg.Pool;
  readonly #table: string;
  readonly #schema: string;

  constructor(pool: pg.Pool, schema = 'catalog') {
    this.#pool = pool;
    this.#schema = schema;
    this.#table = `${quoteIdent(schema)}.dataset`;
  }

  /** Every dataset of one sink, deleted ones included; empty when the catalog does not exist yet. */
  async readSink(sinkEndpointId: string): Promise<StoredDataset[]> {
    try {
      const { rows } = await this.#pool.query<StoredDataset>(
        `SELECT * FROM ${this.#table} WHERE sink_endpoint_id = $1 ORDER BY dataset_id`,
        [sinkEndpointId],
      );
      return rows;
    } catch (error) {
      if (isMissingRelation(error)) return [];
      throw catalogError(error, `read catalog datasets of ${sinkEndpointId}`);
    }
  }

  /** Upserts the records that differ from `stored`; returns what changed. */
  async register(
    desired: readonly DatasetRecord[],
    stored: readonly StoredDataset[],
  ): Promise<Map<string, CatalogChange>> {
    const changes = catalogChanges(desired, stored);
    if (changes.size === 0) return changes;
    const rows = desired.filter((r) => changes.has(r.dataset_id));
    const columns = RECORD_COLUMNS.map(quoteIdent).join(', ');
    const tracked = RECORD_COLUMNS.filter((c) => c !== 'dataset_id');
    // Registering asserts the table is this sink's (its ownership comment says so, or it would be a
    // conflict): another sink's active dataset for the same physical table is stale, and is marked
    // deleted in the same statement, so the catalog never lists one table twice.
    const sql = `
      WITH r AS (
        SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(${RECORD_COLUMNS.map((c) => `${quoteIdent(c)} ${COLUMN_TYPES[c] ?? 'text'}`).join(', ')})
      ), superseded AS (
        UPDATE ${this.#table} AS o SET status = 'deleted', deleted_at = now(), updated_at = now()
        FROM r
        WHERE o.status = 'active' AND o.dataset_id <> r.dataset_id
          AND (o.host, o.port, o.database_name, o.schema_name, o.table_name)
            = (r.host, r.port, r.database_name, r.schema_name, r.table_name)
        RETURNING 1
      )
      INSERT INTO ${this.#table} AS d (${columns})
      SELECT ${RECORD_COLUMNS.map((c) => `r.${quoteIdent(c)}`).join(', ')}
      FROM r
      ON CONFLICT (dataset_id) DO UPDATE SET
        ${tracked.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(',\n        ')},
        schema_version = d.schema_version + CASE WHEN d.schema_hash IS DISTINCT FROM EXCLUDED.schema_hash THEN 1 ELSE 0 END,
        status = 'active', deleted_at = NULL, updated_at = now()
      WHERE (${tracked.map((c) => `d.${quoteIdent(c)}`).join(', ')}, d.status)
        IS DISTINCT FROM (${tracked.map((c) => `EXCLUDED.${quoteIdent(c)}`).join(', ')}, 'active')`;
    try {
      await this.#upsert(sql, rows);
    } catch (error) {
      throw catalogError(error, `register ${rows.length} catalog dataset(s)`);
    }
    return changes;
  }

  async #upsert(sql: string, rows: readonly DatasetRecord[]): Promise<void> {
    try {
      await this.#pool.query(sql, [JSON.stringify(rows)]);
    } catch (error) {
      if (!isMissingRelation(error)) throw error;
      await this.#createCatalog();
      await this.#pool.query(sql, [JSON.stringify(rows)]);
    }
  }

  /**
   * Two first registrations at once would both run `CREATE … IF NOT EXISTS`, and one would fail on the
   * catalog's unique index of type names (23505): `IF NOT EXISTS` checks before, not under, a lock. The
   * transaction-level advisory lock makes the second wait and then find everything in place.
   */
  async #createCatalog(): Promise<void> {
    await withDedicatedClient(this.#pool, async (client, session) => {
      await client.query('BEGIN');
      try {
        await client.query(CATALOG_LOCK_SQL, [this.#schema]);
        await client.query(catalogDdl(this.#schema));
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          session.broken = true;
        });
        throw error;
      }
    });
  }

  /** Marks datasets deleted (all of the sink's, or only `datasetIds`); returns how many changed. */
  async markDeleted(sinkEndpointId: string, datasetIds?: readonly string[]): Promise<number> {
    try {
      const { rowCount } = await this.#pool.query(
        `UPDATE ${this.#table} SET status = 'deleted', deleted_at = now(), updated_at = now()
         WHERE sink_endpoint_id = $1 AND status <> 'deleted' AND ($2::text[] IS NULL OR dataset_id = ANY($2::text[]))`,
        [sinkEndpointId, datasetIds ?? null],
      );
      return rowCount ?? 0;
    } catch (error) {
      if (isMissingRelation(error)) return 0;
      throw catalogError(error, `mark catalog datasets of ${sinkEndpointId} deleted`);
    }
  }
}
