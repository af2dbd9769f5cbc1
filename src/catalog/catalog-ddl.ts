import { quoteIdent } from '../postgres/identifiers.js';

/**
 * The catalog's own table (DESIGN.md §5). Created on first registration only, so a steady-state
 * reconcile runs no DDL at all.
 */
export function catalogDdl(schema: string): string {
  const s = quoteIdent(schema);
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.dataset (
  dataset_id        text PRIMARY KEY,
  model_id          text NOT NULL,
  model_version     text NOT NULL,
  sink_endpoint_id  text NOT NULL,
  display_name      text NOT NULL,
  description       text,
  platform          text NOT NULL DEFAULT 'postgres',
  host              text NOT NULL,
  port              integer NOT NULL,
  database_name     text NOT NULL,
  schema_name       text NOT NULL,
  table_name        text NOT NULL,
  physical_location text NOT NULL,
  urn               text NOT NULL,
  ol_namespace      text NOT NULL,
  ol_name           text NOT NULL,
  domain            text,
  labels            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
  schema            jsonb NOT NULL CHECK (jsonb_typeof(schema -> 'fields') = 'array'),
  schema_hash       text NOT NULL,
  schema_version    integer NOT NULL DEFAULT 1,
  status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at        timestamptz
);
CREATE INDEX IF NOT EXISTS dataset_sink_idx ON ${s}.dataset (sink_endpoint_id);
CREATE INDEX IF NOT EXISTS dataset_model_idx ON ${s}.dataset (model_id);
CREATE INDEX IF NOT EXISTS dataset_urn_idx ON ${s}.dataset (urn);
CREATE INDEX IF NOT EXISTS dataset_labels_gin ON ${s}.dataset USING gin (labels jsonb_path_ops);
COMMENT ON TABLE ${s}.dataset IS 'CDM sink datasets: one row per provisioned table, maintained by cdm-sink-operator.';
`;
}
