/**
 * Translates a CRD structural schema (OpenAPI v3 dialect) into plain JSON Schema for Ajv, and owns the one
 * shared Ajv instance. Structural-only keywords are dropped here because `structural-schema.ts` enforces them.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats';
import { isObject, type JsonObject } from './json.js';
import type { SchemaProps } from './structural-schema.js';

// ajv-formats is CommonJS: under NodeNext the default import is `module.exports`, whose `.default` is the plugin.
const addFormats = (addFormatsModule as unknown as { default: FormatsPlugin }).default;

/** Formats kube-openapi checks and ajv-formats implements identically enough. */
const AJV_FORMATS = ['date-time', 'date', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid', 'byte'] as const;

/** Go's `time.ParseDuration` syntax, which is what kube-openapi's `duration` accepts (not ISO 8601). */
const GO_DURATION = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$|^0$/;

/** Keywords with no validation meaning, or that the structural passes handle themselves. */
const DROPPED = new Set(['nullable', 'default', 'description', 'example', 'externalDocs', 'title', 'format']);

let shared: Ajv | undefined;

function ajv(): Ajv {
  if (!shared) {
    shared = new Ajv({ allErrors: true, strict: false, verbose: true, validateSchema: false });
    addFormats(shared, { formats: [...AJV_FORMATS], keywords: false });
    shared.addFormat('datetime', addFormats.get('date-time'));
    shared.addFormat('duration', GO_DURATION);
  }
  return shared;
}

/** kube-openapi ignores formats it does not know, so unknown ones are registered as always valid. */
function ensureFormat(name: string): void {
  const instance = ajv();
  if (!instance.formats[name]) instance.addFormat(name, true);
}

function translate(node: SchemaProps): JsonObject {
  const out: JsonObject = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (DROPPED.has(keyword) || keyword.startsWith('x-kubernetes-')) continue;
    switch (keyword) {
      case 'properties':
        out.properties = Object.fromEntries(
          Object.entries(value as Record<string, SchemaProps>).map(([k, v]) => [k, translate(v)]),
        );
        break;
      case 'additionalProperties':
        out.additionalProperties = isObject(value) ? translate(value as SchemaProps) : value;
        break;
      case 'items':
      case 'not':
        out[keyword] = translate(value as SchemaProps);
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        out[keyword] = (value as SchemaProps[]).map(translate);
        break;
      // OpenAPI 3.0 uses boolean exclusive bounds next to minimum/maximum; JSON Schema uses numbers.
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        if (value === true) {
          const bound = keyword === 'exclusiveMinimum' ? 'minimum' : 'maximum';
          out[keyword] = node[bound];
        } else if (typeof value === 'number') {
          out[keyword] = value;
        }
        break;
      default:
        out[keyword] = value;
    }
  }
  if (node.exclusiveMinimum === true) delete out.minimum;
  if (node.exclusiveMaximum === true) delete out.maximum;
  // kube-openapi applies formats to strings only.
  if (typeof node.format === 'string' && node.type === 'string') {
    ensureFormat(node.format);
    out.format = node.format;
  }
  if (node['x-kubernetes-int-or-string'] && !node.type) out.type = ['integer', 'string'];
  if (node.nullable) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type)) out.type = [...out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out;
}

export function compileStructuralSchema(schema: SchemaProps): ValidateFunction {
  return ajv().compile(translate(schema));
}
