/** Dispatches one request: discovery and health endpoints, then resource verbs against the service. */
import { apiGroupDocument, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import type { HttpExchange } from './http-exchange.js';
import type { JsonObject } from './json.js';
import { listObjects } from './list.js';
import { patchKindFor } from './patch.js';
import type { RequestInfo, RequestVerb } from './request-info.js';
import {
  deleteOptionsOf,
  dryRunOf,
  fieldValidationOf,
  isTrue,
  objectBody,
  watchRequest,
} from './request-params.js';
import type { ResourceRegistry } from './resource-registry.js';
import type { ResourceService } from './resource-service.js';
import type { ResourceType } from './resource-type.js';
import { apiErrors, deleteSuccessStatus } from './status-errors.js';
import type { ObjectStore } from './store.js';
import type { WatchRequest } from './watch.js';

export interface RouterContext {
  readonly registry: ResourceRegistry;
  readonly service: ResourceService;
  readonly store: ObjectStore;
  readonly serverAddress: string;
  readonly bookmarkIntervalMs: number;
  openWatch(exchange: HttpExchange, request: WatchRequest): void;
}

/** A finished response; watches stream instead and produce none. */
interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly warnings?: readonly string[];
}

function nonResource(ex: HttpExchange, info: RequestInfo, ctx: RouterContext): Reply {
  if (ex.method !== 'GET') throw apiErrors.methodNotAllowed();
  const path = ex.url.pathname.replace(/\/+$/, '') || '/';
  if (path === '/healthz' || path === '/livez' || path === '/readyz') return { status: 200, body: 'ok' };
  if (path === '/version') return { status: 200, body: versionInfo() };
  if (path === '/api') return { status: 200, body: apiVersions(ctx.serverAddress) };
  if (path === '/apis') return { status: 200, body: apiGroupList(ctx.registry) };
  const segments = path.split('/').filter(Boolean);
  let doc: JsonObject | undefined;
  if (segments[0] === 'api' && segments.length === 2) doc = apiResourceList(ctx.registry, '', info.version);
  else if (segments[0] === 'apis' && segments.length === 2) doc = apiGroupDocument(ctx.registry, info.group);
  else if (segments[0] === 'apis' && segments.length === 3)
    doc = apiResourceList(ctx.registry, info.group, info.version);
  if (!doc) throw apiErrors.noRoute();
  return { status: 200, body: doc };
}

function resolveType(info: RequestInfo, ctx: RouterContext): ResourceType {
  const type = ctx.registry.byPath(info.group, info.version, info.resource);
  if (!type) throw apiErrors.noRoute();
  if (info.subresource && !(info.subresource === 'status' && type.statusSubresource))
    throw apiErrors.noRoute();
  const isNamespaceObject = info.group === '' && info.resource === 'namespaces';
  if (!type.namespaced && info.namespace && !isNamespaceObject) throw apiErrors.noRoute();
  const collectionVerb = info.verb === 'list' || info.verb === 'watch';
  if (type.namespaced && !info.namespace && !collectionVerb) throw apiErrors.noRoute();
  return type;
}

export function route(ex: HttpExchange, info: RequestInfo, ctx: RouterContext): void {
  const reply = info.isResourceRequest ? resourceRequest(ex, info, ctx) : nonResource(ex, info, ctx);
  if (!reply) return;
  if (typeof reply.body === 'string') ex.sendText(reply.status, reply.body);
  else ex.sendJson(reply.status, reply.body, {}, reply.warnings);
}

function resourceRequest(ex: HttpExchange, info: RequestInfo, ctx: RouterContext): Reply | undefined {
  const type = resolveType(info, ctx);
  const verb = info.verb as RequestVerb;
  const allowed = info.subresource ? ['get', 'update', 'patch'] : type.verbs;
  if (!allowed.includes(verb)) throw apiErrors.methodNotAllowed();
  const namespace = type.namespaced ? info.namespace || undefined : undefined;
  const subresource = info.subresource === 'status' ? 'status' : undefined;
  const { service } = ctx;
  switch (verb) {
    case 'get':
      return { status: 200, body: service.get(type, namespace, info.name) };
    case 'list':
      return {
        status: 200,
        body: listObjects(ctx.store, type, namespace, {
          labelSelector: ex.query('labelSelector'),
          fieldSelector: ex.query('fieldSelector'),
          limit: ex.query('limit'),
          continue: ex.query('continue'),
          resourceVersion: ex.query('resourceVersion'),
          resourceVersionMatch: ex.query('resourceVersionMatch'),
        }),
      };
    case 'watch':
      ctx.openWatch(ex, watchRequest(ex, info, type, ctx.bookmarkIntervalMs));
      return undefined;
    case 'create': {
      const result = service.create(type, namespace, objectBody(ex), {
        dryRun: dryRunOf(ex),
        fieldValidation: fieldValidationOf(ex),
      });
      return { status: 201, body: result.object, warnings: result.warnings };
    }
    case 'update': {
      const result = service.update(type, namespace, info.name, objectBody(ex), {
        subresource,
        dryRun: dryRunOf(ex),
        fieldValidation: fieldValidationOf(ex),
      });
      return { status: 200, body: result.object, warnings: result.warnings };
    }
    case 'patch': {
      const force = ex.query('force');
      const result = service.patch(
        type,
        namespace,
        info.name,
        patchKindFor(ex.contentType, type),
        ex.rawBody,
        {
          subresource,
          dryRun: dryRunOf(ex),
          fieldValidation: fieldValidationOf(ex),
          fieldManager: ex.query('fieldManager'),
          force: force === undefined ? undefined : isTrue(force),
        },
      );
      return { status: result.created ? 201 : 200, body: result.object, warnings: result.warnings };
    }
    case 'delete': {
      const result = service.delete(type, namespace, info.name, deleteOptionsOf(ex));
      const meta = result.object.metadata as JsonObject;
      // Our kinds do not set ReturnDeletedObject: an immediate removal answers with a success Status,
      // a deletion held by finalizers answers with the object carrying its deletionTimestamp.
      const body = result.removed
        ? deleteSuccessStatus(type, info.name, meta.uid as string | undefined)
        : result.object;
      return { status: 200, body };
    }
    case 'deletecollection': {
      const options = deleteOptionsOf(ex);
      const list = listObjects(ctx.store, type, namespace, {
        labelSelector: ex.query('labelSelector'),
        fieldSelector: ex.query('fieldSelector'),
      });
      const items = (list.items as JsonObject[]).map((item) => {
        const meta = item.metadata as JsonObject;
        return service.delete(type, meta.namespace as string | undefined, String(meta.name), options).object;
      });
      return { status: 200, body: { ...list, items } };
    }
  }
  throw apiErrors.methodNotAllowed();
}
