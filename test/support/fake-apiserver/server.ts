/** Wires registry, store, service, watches and faults behind a node:http listener on 127.0.0.1. */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { builtinResourceTypes } from './builtin-types.js';
import { loadCrds } from './crd-loader.js';
import { FaultInjector } from './faults.js';
import { HttpExchange, type MutableRecord } from './http-exchange.js';
import { clone, type JsonObject } from './json.js';
import { parseRequestInfo } from './request-info.js';
import { ResourceRegistry } from './resource-registry.js';
import { ResourceService } from './resource-service.js';
import { asVersion, storageKeyOf } from './resource-type.js';
import { type RouterContext, route } from './router.js';
import { ApiError, apiErrors } from './status-errors.js';
import { ObjectStore } from './store.js';
import type { FakeApiServer, FakeApiServerOptions, RecordedRequest } from './types.js';
import { type WatchRequest, WatchStream } from './watch.js';

/** The namespaces every cluster starts with. */
const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Thrown by the direct (non-HTTP) API; carries the Status body the HTTP API would have answered with. */
export class FakeApiError extends ApiError {}

function rethrowDirect(error: unknown): never {
  if (error instanceof ApiError) {
    throw new FakeApiError(error.code, error.reason, error.message, error.details, { ...error.headers });
  }
  throw error;
}

/** Direct callers pass client-node models (Dates, undefined fields); store them exactly as the wire would. */
function wireForm(obj: KubernetesObject): JsonObject {
  return JSON.parse(JSON.stringify(obj)) as JsonObject;
}

function parsedBody(raw: string): unknown {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const registry = new ResourceRegistry();
  for (const type of builtinResourceTypes()) registry.register(type);
  const crds = await loadCrds(options.crds ?? []);
  for (const crd of crds) for (const type of crd.types) registry.register(type);

  const store = new ObjectStore(options.historyLimit ?? 1000);
  const service = new ResourceService(store, () => registry.namespacedCollections());
  const namespaceType = registry.requireKind('v1', 'Namespace');
  for (const name of INITIAL_NAMESPACES) {
    service.create(namespaceType, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  // CRDs are served read-only, stored directly because the type itself forbids writes.
  for (const { manifest } of crds) {
    store.insert(storageKeyOf({ group: 'apiextensions.k8s.io', plural: 'customresourcedefinitions' }), {
      ...clone(manifest),
      metadata: { ...(manifest.metadata as JsonObject), uid: randomUUID(), generation: 1 },
      status: { conditions: [{ type: 'Established', status: 'True', reason: 'InitialNamesAccepted' }] },
    });
  }

  const watches = new Set<WatchStream>();
  const requests: RecordedRequest[] = [];
  const faults = new FaultInjector({
    dropWatches: () => {
      for (const w of watches) w.drop();
    },
    closeWatches: () => {
      for (const w of [...watches]) w.end();
    },
    compact: () => store.compact(),
  });

  const server = createServer((req, res) => {
    // A client that disconnects mid-request (e.g. during an injected delay) must not become an unhandled rejection.
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const ctx: RouterContext = {
    registry,
    service,
    store,
    serverAddress: `127.0.0.1:${port}`,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
    openWatch(exchange: HttpExchange, request: WatchRequest) {
      const stream = new WatchStream(exchange.markStreaming(), store, request, (s) => watches.delete(s));
      watches.add(stream);
      stream.start();
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const parsedUrl = new URL(rawUrl, 'http://fake-apiserver');
    const rawBody = await HttpExchange.readBody(req);
    const info = parseRequestInfo(method, parsedUrl.pathname, parsedUrl.searchParams);
    const record: MutableRecord = {
      method,
      path: parsedUrl.pathname,
      query: Object.fromEntries(parsedUrl.searchParams),
      contentType: req.headers['content-type'],
      status: 0,
      answered: 0,
      verb: info.verb,
      group: info.group,
      version: info.version,
      resource: info.resource,
      subresource: info.subresource,
      namespace: info.namespace,
      name: info.name,
      isResourceRequest: info.isResourceRequest,
      body: parsedBody(rawBody),
      user: /^Bearer fake-token-for-(.+)$/.exec(req.headers.authorization ?? '')?.[1],
    };
    requests.push(record);
    const exchange = new HttpExchange(req, res, parsedUrl, rawBody, record);
    try {
      const latency = faults.delayFor(method, rawUrl);
      if (latency > 0) await sleep(latency);
      const injected = faults.takeFailure(method, rawUrl);
      if (injected) throw injected;
      route(exchange, info, ctx);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A bug in the fake surfaces as a 500 whose message carries the stack, visible in ApiException.body.
      exchange.sendError(
        error instanceof ApiError ? error : apiErrors.internal((error as Error).stack ?? String(error)),
      );
    }
  }

  function direct<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      rethrowDirect(error);
    }
  }

  /** Like a client's default context namespace: namespaced objects without one land in `default`. */
  function namespaceOf(obj: KubernetesObject): string {
    return obj.metadata?.namespace || 'default';
  }

  return {
    url,
    kubeConfig(opts = {}) {
      const user = opts.user ?? 'fake-user';
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake-apiserver', server: url, skipTLSVerify: true }],
        users: [{ name: user, token: `fake-token-for-${user}` }],
        contexts: [
          { name: 'fake-apiserver', cluster: 'fake-apiserver', user, namespace: opts.namespace ?? 'default' },
        ],
        currentContext: 'fake-apiserver',
      });
      return kc;
    },
    create<T extends KubernetesObject>(obj: T): T {
      return direct(() => {
        const type = registry.requireKind(obj.apiVersion, obj.kind);
        const namespace = type.namespaced ? namespaceOf(obj) : undefined;
        if (namespace && !store.get(storageKeyOf(namespaceType), undefined, namespace)) {
          service.create(namespaceType, undefined, {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: namespace },
          });
        }
        return clone(service.create(type, namespace, wireForm(obj)).object) as T;
      });
    },
    get<T extends KubernetesObject = KubernetesObject>(
      apiVersion: string,
      kind: string,
      namespace: string | undefined,
      name: string,
    ): T | undefined {
      const type = registry.requireKind(apiVersion, kind);
      const found = service.find(type, namespace, name);
      return found && (clone(found) as T);
    },
    list<T extends KubernetesObject = KubernetesObject>(
      apiVersion: string,
      kind: string,
      namespace?: string,
    ): T[] {
      const type = registry.requireKind(apiVersion, kind);
      return store
        .list(storageKeyOf(type), type.namespaced ? namespace : undefined)
        .map((obj) => clone(asVersion(obj, type)) as T);
    },
    update<T extends KubernetesObject>(obj: T): T {
      return direct(() => {
        const type = registry.requireKind(obj.apiVersion, obj.kind);
        const name = String(obj.metadata?.name);
        return clone(service.update(type, namespaceOf(obj), name, wireForm(obj)).object) as T;
      });
    },
    updateStatus<T extends KubernetesObject>(obj: T): T {
      return direct(() => {
        const type = registry.requireKind(obj.apiVersion, obj.kind);
        if (!type.statusSubresource) throw apiErrors.noRoute();
        const name = String(obj.metadata?.name);
        const result = service.update(type, namespaceOf(obj), name, wireForm(obj), { subresource: 'status' });
        return clone(result.object) as T;
      });
    },
    delete(apiVersion, kind, namespace, name) {
      direct(() => service.delete(registry.requireKind(apiVersion, kind), namespace ?? 'default', name));
    },
    get requests() {
      return requests;
    },
    get openWatches() {
      return watches.size;
    },
    faults,
    async close() {
      for (const w of [...watches]) w.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
