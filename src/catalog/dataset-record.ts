import { parse as parseConnectionString } from 'pg-connection-string';
import { OperatorError } from '../errors/index.js';
import { LOGICAL_TYPES, type ModelSpec } from '../models/index.js';
import { hashOf } from '../postgres/hash.js';
import type { TableSpec } from '../postgres/table-spec.js';

/** Where the sink database lives, without credentials (never stored in the catalog). */
export interface SinkLocation {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

export interface SchemaField {
  readonly name: string;
  readonly ordinal: number;
  readonly nativeType: string;
  readonly logicalType: string;
  readonly nullable: boolean;
  readonly primaryKey: boolean;
  readonly description: string;
}

/** One `catalog.dataset` row as the reconcile wants it (DESIGN.md §5); times are the store's business. */
export interface DatasetRecord {
  readonly dataset_id: string;
  readonly model_id: string;
  readonly model_version: string;
  readonly sink_endpoint_id: string;
  readonly display_name: string;
  readonly description: string;
  readonly platform: 'postgres';
  readonly host: string;
  readonly port: number;
  readonly database_name: string;
  readonly schema_name: string;
  readonly table_name: string;
  readonly physical_location: string;
  readonly urn: string;
  readonly ol_namespace: string;
  readonly ol_name: string;
  readonly domain: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly schema: { readonly fields: readonly SchemaField[]; readonly primaryKey: readonly string[] };
  /** Hash of the structure only: documentation edits do not make a new schema version. */
  readonly schema_hash: string;
}

export function datasetId(modelId: string, sinkEndpointId: string): string {
  return `${modelId}@${sinkEndpointId}`;
}

/** The table's structure as the catalog hashes it; also the `schemaHash` in the provision's status. */
export function structureHash(table: TableSpec): string {
  const hash = structureHashes.get(table) ?? computeStructureHash(table);
  structureHashes.set(table, hash);
  return hash;
}

// Table specs are frozen and shared (see desiredTable), so their hash is computed once.
const structureHashes = new WeakMap<TableSpec, string>();

function computeStructureHash(table: TableSpec): string {
  return hashOf({
    fields: table.columns.map((c, i) => ({
      name: c.name,
      ordinal: i + 1,
      nativeType: c.type,
      nullable: c.nullable,
    })),
    primaryKey: table.primaryKey.columns,
  });
}

/** Derives the dataset record of one provisioned table. Pure. */
export function datasetRecord(
  model: ModelSpec,
  table: TableSpec,
  location: SinkLocation,
  catalog: { readonly domain: string; readonly labels?: Readonly<Record<string, string>> },
): DatasetRecord {
  const qualifiedName = `${location.database}.${table.schema}.${table.name}`;
  const fields = model.fields.map((f, i) => ({
    name: f.name,
    ordinal: i + 1,
    nativeType: LOGICAL_TYPES[f.type].postgresType,
    logicalType: LOGICAL_TYPES[f.type].catalogType,
    nullable: f.nullable,
    primaryKey: Boolean(f.primaryKey),
    description: f.description,
  }));
  return {
    dataset_id: datasetId(model.id, table.sinkId),
    model_id: model.id,
    model_version: model.version,
    sink_endpoint_id: table.sinkId,
    display_name: model.displayName,
    description: model.description,
    platform: 'postgres',
    host: location.host,
    port: location.port,
    database_name: location.database,
    schema_name: table.schema,
    table_name: table.name,
    physical_location: `${table.schema}.${table.name}`,
    urn: `urn:li:dataset:(urn:li:dataPlatform:postgres,${qualifiedName},PROD)`,
    ol_namespace: `postgres://${location.host}:${location.port}`,
    ol_name: qualifiedName,
    domain: catalog.domain,
    // The two identity labels win over user labels of the same name.
    labels: { ...catalog.labels, cdm_model_id: model.id, sink_endpoint_id: table.sinkId },
    schema: { fields, primaryKey: table.primaryKey.columns },
    schema_hash: structureHash(table),
  };
}

/**
 * Host, port and database of a connection string, parsed as node-postgres parses it (so every form it
 * accepts works, e.g. `postgres://user:pw@/db?host=/var/run/postgresql`); the credentials are dropped here.
 *
 * Errors: an unparseable string throws an `InvalidConnection` `OperatorError` that never quotes the
 * string (the parser's own error carries it, password included).
 */
export function sinkLocation(url: string): SinkLocation {
  let parsed: ReturnType<typeof parseConnectionString>;
  try {
    parsed = parseConnectionString(url);
  } catch {
    throw new OperatorError(
      'InvalidConnection',
      'the connection string is not a valid postgres:// URL (check the host list, the port and percent-encoding of special characters in the password); fix the value in the connection Secret',
      false,
    );
  }
  return {
    host: parsed.host || 'localhost',
    port: parsed.port ? Number(parsed.port) : 5432,
    database: parsed.database || parsed.user || 'postgres',
  };
}
