/**
 * The session advisory lock every applier of a sink schema takes (apply and finalize alike), so two
 * controllers, or a controller and a CLI, never interleave DDL on one schema. The first key says
 * "cdm-sink-operator", the second is the schema name; `$1` is the schema.
 */
export const SCHEMA_LOCK_SQL =
  "SELECT pg_catalog.pg_advisory_lock(pg_catalog.hashtext('cdm-sink-operator'), pg_catalog.hashtext($1))";
export const SCHEMA_UNLOCK_SQL =
  "SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtext('cdm-sink-operator'), pg_catalog.hashtext($1))";
