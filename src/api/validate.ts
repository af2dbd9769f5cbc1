import type { ErrorObject } from 'ajv';
import { defaultRegistry } from '../models/index.js';
import { layoutProblems } from '../postgres/desired-schema.js';
import { excerpt } from './excerpt.js';
import { fieldPath, pointerSegments } from './field-path.js';
import { NO_NUL, PATTERN_HINTS } from './schema.js';
import { specStringProblems } from './spec-strings.js';
import { validate as generatedValidator } from './spec-validator.generated.js';
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

/** The spec's JSON Schema, compiled ahead of time (spec-validator-source.ts says why and how). */
const validateSpec = generatedValidator as ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

interface NameRule {
  readonly pattern: RegExp;
  readonly maxLength: number;
  /** `name`, `namespace`: what the message calls the value. */
  readonly noun: string;
  /** What a valid value looks like, with an example: the fix. */
  readonly rule: string;
  /** The message for an empty value. */
  readonly empty: string;
}

// The API server's rules: object names are DNS subdomains (RFC 1123), namespaces DNS labels.
const NAME_RULE: NameRule = {
  pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
  maxLength: 253,
  noun: 'name',
  rule: "use at most 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, such as jira-cdm",
  empty: 'is required: a lower-case DNS subdomain name such as jira-cdm',
};
const NAMESPACE_RULE: NameRule = {
  pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  maxLength: 63,
  noun: 'namespace',
  rule: "use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit, such as data-platform",
  empty: 'is empty: leave it out for the namespace default, or name one such as data-platform',
};

/** Missing and malformed are different mistakes with different fixes, so they get different messages. */
function metadataProblem(value: unknown, rule: NameRule): string | undefined {
  if (value === undefined || value === null || value === '') return rule.empty;
  if (typeof value === 'string' && value.length <= rule.maxLength && rule.pattern.test(value))
    return undefined;
  return `is ${excerpt(value)}, not a valid ${rule.noun}: ${rule.rule}`;
}

/**
 * The reason for a spec's validation errors as a whole: `UnsupportedModel` only when unsupported models
 * are the only problem, since fixing the models alone would not make any other error go away.
 */
export function validationReason(errors: readonly SpecError[]): SpecError['reason'] {
  return errors.every((e) => e.reason === 'UnsupportedModel') ? 'UnsupportedModel' : 'InvalidSpec';
}

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
  const name = metadataProblem(metadata.name, NAME_RULE);
  if (name) errors.push({ path: 'metadata.name', message: name, reason: 'InvalidSpec' });
  const namespace =
    metadata.namespace === undefined ? undefined : metadataProblem(metadata.namespace, NAMESPACE_RULE);
  if (namespace) errors.push({ path: 'metadata.namespace', message: namespace, reason: 'InvalidSpec' });
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
