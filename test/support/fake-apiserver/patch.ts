/**
 * PATCH dispatch by Content-Type, with the apiserver's error codes: 415 for a type the resource does not
 * accept (strategic merge is built-in only), 400 for an undecodable body, 422 when a JSON patch cannot apply.
 */
import { parse as parseYaml } from 'yaml';
import { isObject, type JsonObject } from './json.js';
import { applyJsonPatch, decodeJsonPatch, JsonPatchApplyError, JsonPatchDecodeError } from './json-patch.js';
import { mergePatch } from './merge-patch.js';
import type { ResourceType } from './resource-type.js';
import { apiErrors, type GroupResource } from './status-errors.js';

export const PatchContentType = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export type PatchKind = keyof typeof PatchContentType;

function acceptedKinds(type: ResourceType): PatchKind[] {
  return type.isCustomResource ? ['json', 'merge', 'apply'] : ['json', 'merge', 'strategic', 'apply'];
}

/** Maps a request Content-Type (parameters ignored) to a patch kind this resource accepts, else 415. */
export function patchKindFor(contentType: string | undefined, type: ResourceType): PatchKind {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const accepted = acceptedKinds(type);
  const kind = accepted.find((k) => PatchContentType[k] === mediaType);
  if (!kind) throw apiErrors.unsupportedMediaType(accepted.map((k) => PatchContentType[k]));
  return kind;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw apiErrors.badRequest(`error decoding patch: ${(e as Error).message}`);
  }
}

/** Strategic-merge directives have no meaning once the patch is treated as a merge patch. */
function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) out[k] = stripDirectives(v);
  return out;
}

/** Decodes an apply body (YAML or JSON) into the object it describes. */
export function decodeApplyBody(raw: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = parseYaml(raw);
  } catch (e) {
    throw apiErrors.badRequest(`error decoding YAML: ${(e as Error).message}`);
  }
  if (!isObject(parsed)) throw apiErrors.badRequest('error decoding YAML: the apply body must be an object');
  return parsed;
}

/**
 * Applies a patch to the current object (already in the requested version). Server-side apply is reduced
 * to merge semantics: field ownership and conflicts are not modelled.
 */
export function applyPatch(
  kind: PatchKind,
  current: JsonObject,
  raw: string,
  gr: GroupResource,
  name: string,
): JsonObject {
  let patched: unknown;
  switch (kind) {
    case 'json': {
      try {
        patched = applyJsonPatch(current, decodeJsonPatch(parseJson(raw)));
      } catch (e) {
        if (e instanceof JsonPatchDecodeError)
          throw apiErrors.badRequest(`error decoding patch: ${e.message}`);
        if (e instanceof JsonPatchApplyError) throw apiErrors.patchRejected(gr, name, e.message);
        throw e;
      }
      break;
    }
    case 'merge':
    case 'strategic': {
      const body = parseJson(raw);
      if (!isObject(body)) {
        throw apiErrors.badRequest(
          `error decoding patch: json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type map[string]interface {}`,
        );
      }
      patched = mergePatch(current, kind === 'strategic' ? stripDirectives(body) : body);
      break;
    }
    case 'apply':
      patched = mergePatch(current, decodeApplyBody(raw));
      break;
  }
  if (!isObject(patched)) throw apiErrors.badRequest('the patch did not produce an object');
  return patched;
}
