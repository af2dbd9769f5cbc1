/**
 * Reads what a request asks for beyond its URL path: decoded bodies, dryRun, fieldValidation, DeleteOptions,
 * and the watch parameters (resourceVersion, selectors, bookmarks, timeout, initial events).
 */
import { parse as parseYaml } from 'yaml';
import { fieldError } from './field-errors.js';
import type { HttpExchange } from './http-exchange.js';
import { isObject, type JsonObject } from './json.js';
import { objectMatcher, parseResourceVersion } from './list.js';
import type { RequestInfo } from './request-info.js';
import type { DeleteOptions, FieldValidation } from './resource-service.js';
import { fieldLabelsOf, type ResourceType } from './resource-type.js';
import { FieldSelector } from './selectors.js';
import { apiErrors } from './status-errors.js';
import type { WatchRequest } from './watch.js';

const BODY_MEDIA_TYPES = ['application/json', 'application/yaml'];

function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Decodes a create/update body; the apiserver negotiates the decoder from Content-Type. */
export function objectBody(ex: HttpExchange): unknown {
  const mediaType = mediaTypeOf(ex.contentType);
  if (!BODY_MEDIA_TYPES.includes(mediaType)) {
    throw apiErrors.unsupportedMediaType([...BODY_MEDIA_TYPES, 'application/vnd.kubernetes.protobuf']);
  }
  try {
    return mediaType === 'application/yaml' ? parseYaml(ex.rawBody) : JSON.parse(ex.rawBody);
  } catch (e) {
    throw apiErrors.badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

export function fieldValidationOf(ex: HttpExchange): FieldValidation {
  const value = ex.query('fieldValidation');
  return value === 'Strict' || value === 'Ignore' ? value : 'Warn';
}

export function isTrue(value: string | undefined): boolean {
  return value === 'true' || value === '1';
}

export function dryRunOf(ex: HttpExchange, body?: JsonObject): boolean {
  const bodyDryRun = Array.isArray(body?.dryRun) ? body.dryRun : [];
  return ex.url.searchParams.getAll('dryRun').includes('All') || bodyDryRun.includes('All');
}

export function deleteOptionsOf(ex: HttpExchange): DeleteOptions {
  let body: JsonObject | undefined;
  if (ex.rawBody.trim()) {
    try {
      const parsed: unknown = JSON.parse(ex.rawBody);
      body = isObject(parsed) ? parsed : undefined;
    } catch (e) {
      throw apiErrors.badRequest(`couldn't decode DeleteOptions: ${(e as Error).message}`);
    }
  }
  const pre = isObject(body?.preconditions) ? body.preconditions : {};
  return {
    dryRun: dryRunOf(ex, body),
    preconditions: {
      uid: typeof pre.uid === 'string' ? pre.uid : undefined,
      resourceVersion: typeof pre.resourceVersion === 'string' ? pre.resourceVersion : undefined,
    },
  };
}

export function watchRequest(
  ex: HttpExchange,
  info: RequestInfo,
  type: ResourceType,
  bookmarkIntervalMs: number,
): WatchRequest {
  const namespace = info.namespace || undefined;
  let fields = FieldSelector.parse(ex.query('fieldSelector'), fieldLabelsOf(type));
  // A watch on a named object is a watch on the collection filtered to that name.
  if (info.name) fields = fields.and(FieldSelector.forName(info.name));
  const rawRv = ex.query('resourceVersion');
  const allowBookmarks = isTrue(ex.query('allowWatchBookmarks'));
  const sendInitialEvents = isTrue(ex.query('sendInitialEvents'));
  if (sendInitialEvents && (ex.query('resourceVersionMatch') !== 'NotOlderThan' || !allowBookmarks)) {
    throw apiErrors.invalid('ListOptions', 'meta.k8s.io', '', [
      fieldError.forbidden(
        'sendInitialEvents',
        'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan and allowWatchBookmarks to true',
      ),
    ]);
  }
  const timeout = ex.query('timeoutSeconds');
  return {
    type,
    namespace,
    matches: objectMatcher(type, namespace, ex.query('labelSelector'), fields),
    resourceVersion: rawRv && rawRv !== '0' ? parseResourceVersion(rawRv) : undefined,
    allowBookmarks,
    sendInitialEvents,
    timeoutSeconds: timeout ? Number.parseInt(timeout, 10) : undefined,
    bookmarkIntervalMs,
  };
}
