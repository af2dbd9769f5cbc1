import { CDM_WORK_MODELS } from '../models/index.js';
import type { CdmModelId } from '../models/row-types.generated.js';
import { InvalidIdentifierError, identifierProblem } from '../postgres/identifiers.js';
import { tableName } from '../postgres/table-name.js';
import { InvalidEndpointError } from './errors.js';

/**
 * The sink endpoint as workers receive it, and the one template this library serves. Everything is
 * checked before a connection is opened, so a misconfigured worker fails at start-up, not mid-stream.
 */

/** Template `cdm.jdbc` and its capabilities (DESIGN.md §2). */
export const CDM_JDBC_TEMPLATE = Object.freeze({
  id: 'cdm.jdbc',
  capabilities: Object.freeze({
    supports_raw: false,
    supports_cdm_work: true,
    // `CdmModelId` is generated from these same models; row-types-source.test.ts keeps the two equal.
    supported_cdm_models: Object.freeze(CDM_WORK_MODELS.map((m) => m.id as CdmModelId)),
    'sink.autoprovision': true,
  }),
});

const SUPPORTED_IDS: readonly string[] = CDM_JDBC_TEMPLATE.capabilities.supported_cdm_models;

/** Whether `id` names a model of template `cdm.jdbc`, for ids that come from JavaScript or config. */
function isCdmModelId(id: unknown): id is CdmModelId {
  return typeof id === 'string' && SUPPORTED_IDS.includes(id);
}

/** `parameters` of a `cdm.jdbc` endpoint. Unknown keys are ignored (other consumers may read them). */
export interface CdmJdbcParameters {
  /** `postgres://` or `postgresql://` URL; optional when a pool is passed in the options. */
  readonly connection_url?: string;
  /** Default `cdm_work`. */
  readonly schema?: string;
  /** Default `cdm_`. */
  readonly table_prefix?: string;
  /** Models this endpoint may write; default: every model the template supports. */
  readonly models?: readonly string[];
  /** Only `cdm` is served here; `raw` units write through their raw path. */
  readonly mode?: string;
  readonly [key: string]: unknown;
}

export interface SinkEndpoint {
  readonly templateId: string;
  /** Only `cdm` is served here; `raw` units write through their raw path. */
  readonly mode?: string;
  readonly parameters: CdmJdbcParameters;
}

/** Where the writer writes: validated names and the models it may touch. */
export interface WriterLayout {
  readonly schema: string;
  readonly tablePrefix: string;
  /** Model ids this writer accepts (a subset of the template's). */
  readonly models: readonly CdmModelId[];
}

export const DEFAULT_SCHEMA = 'cdm_work';
export const DEFAULT_TABLE_PREFIX = 'cdm_';

function checkName(field: string, what: string, value: string): void {
  const problem = identifierProblem(value);
  if (problem)
    throw new InvalidEndpointError(field, new InvalidIdentifierError(what, value, problem).message);
}

/**
 * Validates schema, prefix and models (`fieldPrefix` names the settings in errors, e.g. `parameters.`).
 * Every resulting table name is checked too, since Postgres would silently truncate one over 63 bytes.
 */
export function resolveLayout(
  input: { schema?: unknown; tablePrefix?: unknown; models?: unknown },
  names: { schema: string; tablePrefix: string; models: string },
): WriterLayout {
  const supported = CDM_JDBC_TEMPLATE.capabilities.supported_cdm_models;
  const schema = input.schema ?? DEFAULT_SCHEMA;
  const tablePrefix = input.tablePrefix ?? DEFAULT_TABLE_PREFIX;
  if (typeof schema !== 'string') throw new InvalidEndpointError(names.schema, 'must be a string');
  if (typeof tablePrefix !== 'string') throw new InvalidEndpointError(names.tablePrefix, 'must be a string');
  checkName(names.schema, 'schema', schema);
  if (tablePrefix !== '') checkName(names.tablePrefix, 'table prefix', tablePrefix);
  const models = input.models ?? supported;
  if (!Array.isArray(models) || models.some((m) => typeof m !== 'string')) {
    throw new InvalidEndpointError(names.models, 'must be a list of model ids');
  }
  const unsupported = models.filter((m) => !isCdmModelId(m));
  if (unsupported.length > 0) {
    throw new InvalidEndpointError(
      names.models,
      `${unsupported.map((m) => `'${m}'`).join(', ')} not supported by template ${CDM_JDBC_TEMPLATE.id}; supported: ${supported.join(', ')}`,
    );
  }
  if (new Set(models).size !== models.length)
    throw new InvalidEndpointError(names.models, 'lists a model twice');
  const valid = models.filter(isCdmModelId);
  for (const model of valid)
    checkName(names.tablePrefix, `table name for ${model}`, tableName(model, tablePrefix));
  return Object.freeze({ schema, tablePrefix, models: Object.freeze(valid) });
}

/** Settings read from a `cdm.jdbc` endpoint. */
export interface EndpointSettings extends WriterLayout {
  readonly connectionUrl: string | undefined;
}

/** Validates an endpoint for this library; `hasPool` makes `connection_url` optional. */
export function parseEndpoint(endpoint: SinkEndpoint, hasPool: boolean): EndpointSettings {
  if (typeof endpoint !== 'object' || endpoint === null) {
    throw new InvalidEndpointError('endpoint', 'must be an object with templateId and parameters');
  }
  if (endpoint.templateId !== CDM_JDBC_TEMPLATE.id) {
    throw new InvalidEndpointError(
      'templateId',
      `template ${JSON.stringify(endpoint.templateId)} is not served by cdm-sink-operator/writer; it writes only template '${CDM_JDBC_TEMPLATE.id}'`,
    );
  }
  const parameters = endpoint.parameters;
  if (typeof parameters !== 'object' || parameters === null) {
    throw new InvalidEndpointError(
      'parameters',
      'must be an object (connection_url, schema, table_prefix, models)',
    );
  }
  for (const [field, mode] of [
    ['mode', endpoint.mode],
    ['parameters.mode', parameters.mode],
  ] as const) {
    if (mode === undefined || mode === 'cdm') continue;
    throw new InvalidEndpointError(
      field,
      mode === 'raw'
        ? `raw-mode units do not use this library: they go to their raw path (template '${CDM_JDBC_TEMPLATE.id}' has supports_raw: false); only mode 'cdm' writes CDM rows here`
        : `unknown mode ${JSON.stringify(mode)}; this library serves mode 'cdm' only`,
    );
  }
  const url = parameters.connection_url;
  if (url === undefined && !hasPool) {
    throw new InvalidEndpointError(
      'parameters.connection_url',
      'is required (or pass a pg.Pool in the options)',
    );
  }
  if (url !== undefined && (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url))) {
    throw new InvalidEndpointError('parameters.connection_url', 'must be a postgres:// or postgresql:// URL');
  }
  const layout = resolveLayout(
    { schema: parameters.schema, tablePrefix: parameters.table_prefix, models: parameters.models },
    { schema: 'parameters.schema', tablePrefix: 'parameters.table_prefix', models: 'parameters.models' },
  );
  return Object.freeze({ ...layout, connectionUrl: url });
}
