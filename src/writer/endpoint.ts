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

/**
 * `sslmode` values node-postgres (pg-connection-string 2.x) acts on. It reads any other value as "SSL
 * with full verification", silently, so a typo would change what the connection does.
 */
const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];
/** With `uselibpqcompat=true` they follow libpq, which has no `no-verify`. */
const LIBPQ_SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** Refuses an `sslmode` the driver would not honour; the message never echoes the URL (it may hold a password). */
function checkSslMode(url: string): void {
  const start = url.indexOf('?');
  if (start < 0) return;
  // The query string alone, parsed as pg-connection-string parses it (URLSearchParams semantics).
  const params = new URLSearchParams(url.slice(start + 1).split('#')[0]);
  const libpq = params.get('uselibpqcompat') === 'true';
  const accepted = libpq ? LIBPQ_SSL_MODES : SSL_MODES;
  for (const mode of params.getAll('sslmode')) {
    if (accepted.includes(mode)) continue;
    // Named only when it looks like a mode: a mangled URL could put anything after `sslmode=`.
    const got = /^[A-Za-z-]{1,20}$/.test(mode) ? `"${mode}"` : 'another value';
    throw new InvalidEndpointError(
      'parameters.connection_url',
      `sslmode must be one of ${accepted.join(', ')}${libpq ? ' (with uselibpqcompat=true)' : ''}, not ${got}`,
    );
  }
}

/** The connection settings of a pool, as far as naming its server goes (pg.Pool's `options`). */
export interface ConnectionSettings {
  readonly connectionString?: unknown;
  readonly host?: unknown;
  readonly port?: unknown;
  readonly database?: unknown;
}

/**
 * `host:port/database` of a connection, for messages: never the user, the password or the URL. A
 * setting that is not given shows as pg's default (`localhost`, `5432`) or `(default database)`.
 */
export function describeConnection(settings: ConnectionSettings | undefined): string {
  let host = settings?.host;
  let port = settings?.port;
  let database = settings?.database;
  if (typeof settings?.connectionString === 'string') {
    // pg lets the URL's values win over the separate settings; so does this description.
    try {
      const url = new URL(settings.connectionString);
      host = url.searchParams.get('host') || decodeURIComponent(url.hostname) || host;
      port = url.searchParams.get('port') || url.port || port;
      database = decodeURIComponent(url.pathname.slice(1)) || database;
    } catch {
      return 'the configured database';
    }
  }
  const text = (value: unknown, fallback: string) =>
    typeof value === 'string' || typeof value === 'number' ? String(value) || fallback : fallback;
  return `${text(host, 'localhost')}:${text(port, '5432')}/${text(database, '(default database)')}`;
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
  if (typeof url === 'string') checkSslMode(url);
  const layout = resolveLayout(
    { schema: parameters.schema, tablePrefix: parameters.table_prefix, models: parameters.models },
    { schema: 'parameters.schema', tablePrefix: 'parameters.table_prefix', models: 'parameters.models' },
  );
  return Object.freeze({ ...layout, connectionUrl: url });
}
