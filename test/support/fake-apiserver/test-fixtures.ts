/** Shared fixtures for the fake apiserver's own tests: small CRDs, clients, and polling helpers. */
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  type V1ObjectMeta,
  Watch,
} from '@kubernetes/client-node';
import type { FakeApiServer, StatusBody } from './index.js';

export const GROUP = 'example.test';
export const VERSION = 'v1';
export const WIDGETS = 'widgets';
export const GIZMOS = 'gizmos';
export const NS = 'default';

const conditionSchema = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: { type: 'string', maxLength: 316 },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    },
    message: { type: 'string', maxLength: 32768 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
  },
};

/** Namespaced, with a status subresource and most structural-schema features a real CRD uses. */
export const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${WIDGETS}.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: {
      kind: 'Widget',
      listKind: 'WidgetList',
      plural: WIDGETS,
      singular: 'widget',
      shortNames: ['wg'],
    },
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size', 'endpoint'],
                'x-kubernetes-validations': [{ rule: 'self.replicas <= 10', message: 'too many replicas' }],
                properties: {
                  size: { type: 'string', enum: ['small', 'large'] },
                  replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
                  endpoint: {
                    type: 'object',
                    required: ['host'],
                    properties: {
                      host: { type: 'string', pattern: '^[a-z0-9.-]+$' },
                      port: { type: 'integer', default: 5432 },
                      schema: { type: 'string', pattern: '^[a-z_][a-z0-9_]*$', maxLength: 63 },
                    },
                  },
                  tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
                  models: {
                    type: 'array',
                    'x-kubernetes-list-type': 'map',
                    'x-kubernetes-list-map-keys': ['name'],
                    items: {
                      type: 'object',
                      required: ['name'],
                      properties: { name: { type: 'string' }, table: { type: 'string' } },
                    },
                  },
                  extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  timeout: {
                    'x-kubernetes-int-or-string': true,
                    anyOf: [{ type: 'integer' }, { type: 'string' }],
                  },
                  note: { type: 'string', nullable: true },
                },
              },
              status: {
                type: 'object',
                properties: {
                  observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
                  phase: { type: 'string', enum: ['Pending', 'Ready', 'Failed'] },
                  conditions: {
                    type: 'array',
                    'x-kubernetes-list-type': 'map',
                    'x-kubernetes-list-map-keys': ['type'],
                    items: conditionSchema,
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

/** Cluster-scoped, no status subresource, spec kept verbatim. */
export const gizmoCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${GIZMOS}.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Cluster',
    names: { kind: 'Gizmo', plural: GIZMOS },
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

/**
 * A Widget as tests handle it. The metadata type is client-node's, whose timestamps are typed as Date although
 * CustomObjectsApi hands back the wire strings; tests compare them as opaque values.
 */
export interface WidgetObject extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta & { name: string; [key: string]: unknown };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export function widget(
  name: string,
  spec: Record<string, unknown> = {},
  extra: Partial<WidgetObject> = {},
): WidgetObject {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'Widget',
    ...extra,
    metadata: { name, namespace: NS, ...extra.metadata },
    spec: { size: 'small', endpoint: { host: 'db.local' }, ...spec },
  };
}

export interface Clients {
  readonly kc: KubeConfig;
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
}

export function clientsFor(server: FakeApiServer): Clients {
  const kc = server.kubeConfig();
  return {
    kc,
    custom: kc.makeApiClient(CustomObjectsApi),
    core: kc.makeApiClient(CoreV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
  };
}

export const widgetRef = (name: string) => ({
  group: GROUP,
  version: VERSION,
  namespace: NS,
  plural: WIDGETS,
  name,
});

/** Awaits a rejected client call and returns the parsed Status body plus the HTTP code and headers. */
export async function apiFailure(
  call: Promise<unknown>,
): Promise<{ code: number; status: StatusBody; headers: Record<string, string> }> {
  try {
    await call;
  } catch (e) {
    if (!(e instanceof ApiException)) throw e;
    const body: unknown = e.body;
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as StatusBody;
    return { code: e.code, status, headers: e.headers };
  }
  throw new Error('expected the call to fail');
}

/** Polls until `check` stops throwing; short interval so tests stay fast without fixed sleeps. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export interface WatchEvent {
  readonly type: string;
  // biome-ignore lint/suspicious/noExplicitAny: watch payloads are arbitrary JSON inspected by tests.
  readonly object: any;
}

export interface OpenWatch {
  readonly events: WatchEvent[];
  /** Resolves with the error (or null) client-node passed to `done` when the stream ended. */
  readonly done: Promise<unknown>;
  abort(): void;
}

export async function openWatch(
  kc: KubeConfig,
  path: string,
  params: Record<string, string | number | boolean | undefined> = {},
): Promise<OpenWatch> {
  const events: WatchEvent[] = [];
  let resolveDone: (err: unknown) => void = () => {};
  const done = new Promise<unknown>((resolve) => {
    resolveDone = resolve;
  });
  const controller = await new Watch(kc).watch(
    path,
    params,
    (type, object) => events.push({ type, object }),
    (err) => resolveDone(err),
  );
  return { events, done, abort: () => controller.abort() };
}

export const widgetsPath = `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${WIDGETS}`;
