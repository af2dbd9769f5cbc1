/**
 * `cdm-sink-operator/writer`: the workers' library for writing CDM-shaped rows into provisioned sink
 * tables (DESIGN.md §7). It validates, upserts and skips unchanged rows; it never issues DDL.
 *
 * Every declaration reachable from here stands alone: none imports `pg` or Node's types, so a consumer
 * compiles against it without any `@types/*` package.
 */

export type * from '../models/row-types.generated.js';
export type { BatchOutcome, InsertVia } from './batch-types.js';
export {
  CDM_JDBC_TEMPLATE,
  type CdmJdbcParameters,
  DEFAULT_SCHEMA,
  DEFAULT_TABLE_PREFIX,
  type SinkEndpoint,
  type WriterLayout,
} from './endpoint.js';
export {
  BatchWriteError,
  ConnectionFailedError,
  type FieldError,
  InvalidEndpointError,
  InvalidOptionError,
  InvalidRowsError,
  NotProvisionedError,
  PROVISION_HINT,
  PrepareWorkerError,
  type ProvisioningProblem,
  type RejectedRow,
  UnsupportedModelError,
  WriterError,
} from './errors.js';
export type { FailureKind, RetryEvent, RetryPolicy } from './retry.js';
export { type JsonSchema, rowSchema } from './row-schema.js';
export {
  CdmSinkWriter,
  type CdmSinkWriterOptions,
  type FromEndpointOptions,
  type WriteOptions,
  type WriteProgress,
  type WriteResult,
  type WriterTuning,
} from './writer.js';
export type { WriterPool, WriterPoolClient, WriterSubmittable } from './writer-pool.js';
