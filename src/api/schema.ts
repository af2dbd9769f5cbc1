import { CDM_WORK_MODELS } from '../models/index.js';
import { MAX_IDENTIFIER_BYTES } from '../postgres/identifiers.js';
import { desiredTable } from '../postgres/table-spec.js';
import { LABEL_KEY_RULE, LABEL_KEY_VALIDATION, MAX_LABELS } from './label-key.js';
import { CDM_JDBC_CAPABILITIES, CDM_JDBC_TEMPLATE_ID } from './template.js';

/**
 * The `CdmSinkProvision` v1alpha1 schema in the CRD's structural OpenAPI dialect: the single source for
 * the generated CRD, the CLI's offline validation and the defaults. Unknown fields are pruned by the API
 * server; `strictSchema()` turns that into errors for the CLI.
 */

type Schema = Record<string, unknown>;

/**
 * The longest name a model adds after the prefix (e.g. `work_worklog_time_spent_seconds_check`), so the
 * prefix limit follows the models instead of a guess.
 */
export const LONGEST_GENERATED_SUFFIX = Math.max(
  ...CDM_WORK_MODELS.flatMap((m) => {
    const t = desiredTable(m, { schema: 's', tablePrefix: '', sinkId: 'x/y' });
    return [
      t.name,
      t.primaryKey.name,
      ...t.indexes.map((i) => i.name),
      ...t.columns.flatMap((c) => (c.check ? [c.check.name] : [])),
    ];
  }).map((n) => Buffer.byteLength(n)),
);
export const MAX_TABLE_PREFIX_BYTES = MAX_IDENTIFIER_BYTES - LONGEST_GENERATED_SUFFIX;

const IDENTIFIER = '^[a-z_][a-z0-9_]*$';
const OPTIONAL_IDENTIFIER = '^([a-z_][a-z0-9_]*)?$';
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const DURATION = '^[0-9]+(ms|s|m)$';
/**
 * Free text without NUL, which Postgres cannot store in text or jsonb (22021/22P05). Written `\x00`:
 * the API server compiles patterns as RE2, which has no `\u` escape, and Ajv as JavaScript, where
 * `\x00` means the same. (Lone surrogates cannot be written portably at all; code checks those.)
 */
export const NO_NUL = '^[^\\x00]*$';

/** What to write instead, for each pattern's error message. */
export const PATTERN_HINTS: Readonly<Record<string, string>> = {
  [IDENTIFIER]: "use lower-case letters, digits and '_', starting with a letter or '_'",
  [OPTIONAL_IDENTIFIER]: "use lower-case letters, digits and '_', starting with a letter or '_'",
  [DNS_SUBDOMAIN]: 'use a lower-case DNS subdomain name such as jira-cdm-sink',
  [DURATION]: 'use a whole number and ms, s or m, such as 5s',
};

const string = (description: string, extra: Schema = {}): Schema => ({
  type: 'string',
  description,
  ...extra,
});

export const SPEC_SCHEMA: Schema = {
  type: 'object',
  description: 'Which Postgres sink to provision and which CDM models it must hold.',
  required: ['endpoint'],
  properties: {
    endpoint: {
      type: 'object',
      description: 'The sink endpoint: a template and its parameters.',
      required: ['templateId', 'connection'],
      properties: {
        templateId: string(
          'Sink template. `cdm.jdbc` (Postgres over JDBC-style URLs) is the one template today.',
          {
            enum: [CDM_JDBC_TEMPLATE_ID],
          },
        ),
        connection: {
          type: 'object',
          description: 'Where the postgresql:// connection URL comes from.',
          required: ['secretRef'],
          properties: {
            secretRef: {
              type: 'object',
              description: 'A Secret in the same namespace holding the connection URL.',
              required: ['name'],
              properties: {
                name: string('Secret name.', { pattern: DNS_SUBDOMAIN, maxLength: 253, minLength: 1 }),
                key: string('Key in the Secret whose value is the URL.', {
                  default: 'url',
                  minLength: 1,
                  maxLength: 253,
                }),
              },
            },
          },
        },
        schema: string('Postgres schema that holds the tables.', {
          default: 'cdm_work',
          pattern: IDENTIFIER,
          maxLength: MAX_IDENTIFIER_BYTES,
        }),
        tablePrefix: string(
          `Prefix of every table name (model id without "cdm.", dots as "_"). At most ${MAX_TABLE_PREFIX_BYTES} bytes so the longest generated name fits Postgres' ${MAX_IDENTIFIER_BYTES}-byte limit.`,
          { default: 'cdm_', pattern: OPTIONAL_IDENTIFIER, maxLength: MAX_TABLE_PREFIX_BYTES },
        ),
      },
    },
    models: {
      type: 'array',
      description: 'CDM models the sink must hold; default: every model the template supports.',
      default: [...CDM_JDBC_CAPABILITIES.supported_cdm_models],
      minItems: 1,
      'x-kubernetes-list-type': 'set',
      items: string('CDM model id.', { enum: [...CDM_JDBC_CAPABILITIES.supported_cdm_models] }),
    },
    catalog: {
      type: 'object',
      description: 'Registration of each table as a dataset in the metadata catalog.',
      default: {},
      properties: {
        register: { type: 'boolean', default: true, description: 'Register datasets in the catalog.' },
        domain: string('Catalog domain of the datasets: 1 to 128 characters of valid Unicode, no NUL.', {
          default: 'cdm.work',
          minLength: 1,
          maxLength: 128,
          pattern: NO_NUL,
        }),
        labels: {
          type: 'object',
          // The CLI checks keys in code (spec-strings.ts), the API server with the CEL rule.
          description: `Extra labels on every dataset (string to string), at most ${MAX_LABELS}. Keys: ${LABEL_KEY_RULE}. Values: at most 256 characters of valid Unicode, no NUL.`,
          maxProperties: MAX_LABELS,
          additionalProperties: { type: 'string', maxLength: 256, pattern: NO_NUL },
          'x-kubernetes-validations': [LABEL_KEY_VALIDATION],
        },
      },
    },
    policy: {
      type: 'object',
      description: 'How changes are applied.',
      default: {},
      properties: {
        lockTimeout: string('lock_timeout for each DDL statement, e.g. 5s, 500ms, 1m.', {
          default: '5s',
          pattern: DURATION,
        }),
        drift: string('Correct: re-create what went missing. Report: touch nothing, report it.', {
          default: 'Correct',
          enum: ['Correct', 'Report'],
        }),
        adopt: {
          type: 'boolean',
          default: false,
          description:
            'Take over an existing table at a target name that carries no cdm-sink-operator ownership comment, when its columns and key are compatible with the model: only additive changes are made, the comment records the adoption, and deletionPolicy: Delete releases it instead of dropping it. Off: such a table is a conflict (UnmanagedTableExists) and is never touched.',
        },
      },
    },
    deletionPolicy: string(
      'Retain: keep tables, mark datasets deleted. Delete: drop the tables this provision created (adopted tables are released and kept), mark datasets deleted.',
      {
        default: 'Retain',
        enum: ['Retain', 'Delete'],
      },
    ),
    suspend: { type: 'boolean', default: false, description: 'Stop all DDL until set back to false.' },
  },
  'x-kubernetes-validations': [
    {
      rule: 'self.endpoint.schema == oldSelf.endpoint.schema && self.endpoint.tablePrefix == oldSelf.endpoint.tablePrefix',
      message:
        'spec.endpoint.schema and spec.endpoint.tablePrefix are immutable: existing tables would be orphaned; create a new CdmSinkProvision instead',
    },
  ],
};

const CONDITION_SCHEMA: Schema = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: string('Condition type.', {
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: string('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
    reason: string('CamelCase reason.', {
      maxLength: 1024,
      minLength: 1,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: string('Human-readable detail.', { maxLength: 32768 }),
    lastTransitionTime: string('When the status last changed.', { format: 'date-time' }),
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
  },
};

export const STATUS_SCHEMA: Schema = {
  type: 'object',
  description: 'Observed state, kstatus-compatible.',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64' },
    sinkEndpointId: string('<namespace>/<name> of this provision; the catalog origin of its datasets.'),
    modelCount: { type: 'integer', description: 'Number of models in the spec (printer column).' },
    conditions: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: CONDITION_SCHEMA,
    },
    tables: {
      type: 'array',
      items: {
        type: 'object',
        required: ['model', 'table', 'state'],
        properties: {
          model: string('CDM model id.'),
          table: string('schema.table'),
          state: string('Table state.', { enum: ['Ready', 'Pending', 'Drifted', 'Conflict', 'Failed'] }),
          schemaHash: string('Hash of the table structure.'),
          message: string('Detail.'),
        },
      },
    },
    datasets: {
      type: 'array',
      items: {
        type: 'object',
        required: ['model', 'datasetId', 'registered'],
        properties: {
          model: string('CDM model id.'),
          datasetId: string('<model id>@<sink endpoint id>'),
          registered: { type: 'boolean' },
          message: string('Detail.'),
        },
      },
    },
    lastPlan: {
      type: 'object',
      properties: {
        hash: string('Hash of the last plan that ran (or would run).'),
        statements: { type: 'integer' },
        appliedAt: string('When it was applied.', { format: 'date-time' }),
      },
    },
    capabilities: {
      type: 'object',
      description: 'Capabilities of the sink template.',
      properties: {
        supports_raw: { type: 'boolean' },
        supports_cdm_work: { type: 'boolean' },
        supported_cdm_models: { type: 'array', items: { type: 'string' } },
        'sink.autoprovision': { type: 'boolean' },
      },
    },
  },
};
