/**
 * `cdm-sink-operator/writer`: the workers' library for writing CDM-shaped rows into provisioned sink
 * tables (DESIGN.md §7). It validates, upserts and skips unchanged rows; it never issues DDL.
 */

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
  type FieldError,
  InvalidEndpointError,
  InvalidRowsError,
  NotProvisionedError,
  PROVISION_HINT,
  type ProvisioningProblem,
  type RejectedRow,
  UnsupportedModelError,
  WriterError,
} from './errors.js';
export type { BatchOutcome, InsertVia } from './execute-batch.js';
export type { RetryPolicy } from './retry.js';
export { type JsonSchema, rowSchema } from './row-schema.js';
export type { RetryEvent } from './write-batch.js';
export {
  CdmSinkWriter,
  type CdmSinkWriterOptions,
  type FromEndpointOptions,
  type WriteOptions,
  type WriteResult,
  type WriterTuning,
} from './writer.js';
