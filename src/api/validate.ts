import { Ajv, type ErrorObject } from 'ajv';
import { defaultRegistry } from '../models/index.js';
import { layoutProblems } from '../postgres/desired-schema.js';
import { excerpt } from './excerpt.js';
import { fieldPath, pointerSegments } from './field-path.js';
import { NO_NUL, PATTERN_HINTS, SPEC_SCHEMA } from './schema.js';
import { specStringProblems } from './spec-strings.js';
import { strictSchema } from './strict-schema.js';
import { TEMPLATES } from './template.js';
import { API_GROUP_VERSION, type CdmSinkProvision, KIND } from './types.js';

/** One problem with a manifest: the field path (`spec.endpoint.schema`), what is wrong and how to fix it. */
export interface SpecError {
  readonly path: string;
  readonly message: string;
  readonly reason: 'InvalidSpec' | 'UnsupportedModel';
}

export type ValidationResult =
  | { readonly ok: true; readonly provision: CdmSinkProvision }
  | { readonly ok: false; readonly errors: readonly SpecError[] };

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
const validateSpec = ajv.compile(strictSchema(SPEC_SCHEMA) as object);
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function describe(error: ErrorObject): SpecError {
  const segments = ['spec', ...pointerSegments(error.instancePath)];
  const path = fieldPath(segments);
  const params = error.params as Record<string, unknown>;
  const schema = error.parentSchema as Record<string, unknown> | undefined;
  switch (error.keyword) {
    case 'additionalProperties': {
      const known = Object.keys((schema?.properties as object) ?? {}).join(', ');
      return {
        path: fieldPath([...segments, String(params.additionalProperty)]),
        message: `unknown field; valid fields here are: ${known}`,
        reason: 'InvalidSpec',
      };
    }
    case 'required':
      return {
        path: fieldPath([...segments, String(params.missingProperty)]),
        message: 'is required',
        reason: 'InvalidSpec',
      };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => excerpt(v)).join(', ');
      const isModel = /^spec\.models\[\d+\]$/.test(path);
      return {
        path,
        message: isModel
          ? `unsupported model; the cdm.jdbc template supports: ${allowed}`
          : `must be one of: ${allowed}`,
        reason: isModel ? 'UnsupportedModel' : 'InvalidSpec',
      };
    }
    case 'pattern': {
      const pattern = String(params.pattern);
      if (pattern === NO_NUL) {
        const at = String(error.data).indexOf('\u0000');
        return {
          path,
          message: `contains the NUL character (\\u0000 at character ${at + 1}), which Postgres cannot store: remove it`,
          reason: 'InvalidSpec',
        };
      }
      const hint = PATTERN_HINTS[pattern];
      return {
        path,
        message: `${excerpt(error.data)} does not match ${pattern}${hint ? ` (${hint})` : ''}`,
        reason: 'InvalidSpec',
      };
    }
    case 'maxLength':
      return {
        path,
        message: `${excerpt(error.data)} is longer than ${String(params.limit)} characters`,
        reason: 'InvalidSpec',
      };
    case 'uniqueItems':
      return {
        path,
        message: `lists ${excerpt((error.data as unknown[])[params.j as number])} twice; each model may appear once`,
        reason: 'InvalidSpec',
      };
    default:
      return { path, message: error.message ?? 'is invalid', reason: 'InvalidSpec' };
  }
}

/**
 * Validates a parsed manifest and fills in defaults, the way the API server and then the controller
 * would: the CRD schema (unknown fields are errors here) plus what a schema cannot say (every generated
 * name fits 63 bytes, models are supported by the template). Does not mutate its input.
 */
export function validateProvision(document: unknown): ValidationResult {
  const errors: SpecError[] = [];
  const doc = (document && typeof document === 'object' ? structuredClone(document) : {}) as Record<
    string,
    unknown
  >;
  if (doc.apiVersion !== API_GROUP_VERSION) {
    errors.push({
      path: 'apiVersion',
      message: `is ${excerpt(doc.apiVersion)}; use ${API_GROUP_VERSION}`,
      reason: 'InvalidSpec',
    });
  }
  if (doc.kind !== KIND)
    errors.push({
      path: 'kind',
      message: `is ${excerpt(doc.kind)}; use ${KIND}`,
      reason: 'InvalidSpec',
    });
  const metadata = (doc.metadata ?? {}) as Record<string, unknown>;
  if (typeof metadata.name !== 'string' || !DNS_SUBDOMAIN.test(metadata.name)) {
    errors.push({
      path: 'metadata.name',
      message: 'is required: a lower-case DNS subdomain name such as jira-cdm',
      reason: 'InvalidSpec',
    });
  }
  if (
    metadata.namespace !== undefined &&
    (typeof metadata.namespace !== 'string' || !DNS_SUBDOMAIN.test(metadata.namespace))
  ) {
    errors.push({
      path: 'metadata.namespace',
      message: 'must be a lower-case DNS label such as data-platform',
      reason: 'InvalidSpec',
    });
  }
  const known = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  for (const key of Object.keys(doc)) {
    if (!known.has(key))
      errors.push({
        path: fieldPath([key]),
        message: 'unknown top-level field; valid: apiVersion, kind, metadata, spec',
        reason: 'InvalidSpec',
      });
  }
  if (doc.spec === undefined) {
    errors.push({ path: 'spec', message: 'is required', reason: 'InvalidSpec' });
    return { ok: false, errors };
  }
  if (!validateSpec(doc.spec)) errors.push(...(validateSpec.errors ?? []).map(describe));
  errors.push(...specStringProblems(doc.spec));
  if (errors.length > 0) return { ok: false, errors };

  const provision = {
    ...doc,
    metadata: { namespace: 'default', ...metadata },
  } as unknown as CdmSinkProvision;
  const spec = provision.spec;
  const template = TEMPLATES[spec.endpoint.templateId];
  const models = spec.models
    .filter((id) => template?.supported_cdm_models.includes(id))
    .map((id) => defaultRegistry.get(id));
  const layout = {
    schema: spec.endpoint.schema,
    tablePrefix: spec.endpoint.tablePrefix,
    sinkId: `${provision.metadata.namespace}/${provision.metadata.name}`,
  };
  for (const problem of layoutProblems(models, layout)) {
    errors.push({ path: `spec.endpoint.${problem.field}`, message: problem.message, reason: 'InvalidSpec' });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, provision };
}
