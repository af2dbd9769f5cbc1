import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import {
  type Configuration,
  type ConfigurationOptions,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  createConfiguration,
  type KubeConfig,
  Observable,
  PatchStrategy,
  type SecurityAuthentication,
  ServerConfiguration,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, type CdmSinkProvision, PLURAL } from '../api/types.js';
import { isNotFound } from './api-errors.js';
import type { KubePorts } from './kube-ports.js';

/** Identifies our writes in `managedFields` and audit logs. */
export const FIELD_MANAGER = 'cdm-sink-controller';

// Without the explicit header the client sends json-patch (notes/kubernetes-client.md §1.5).
const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Per-call options that abort the request with `signal` (client-node sets no request timeout of its own). */
function abortable(signal: AbortSignal | undefined): ConfigurationOptions | undefined {
  if (!signal) return undefined;
  return {
    middleware: [
      {
        pre: (request) => {
          request.setSignal(signal);
          return new Observable(Promise.resolve(request));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** What decides whether two requests may share a TLS connection; hashed, as keys and certificates are secrets. */
function tlsIdentity(options: Agent['options']): string {
  const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = options;
  return createHash('sha256')
    .update(JSON.stringify({ ca, cert, key, pfx, passphrase, rejectUnauthorized, servername }))
    .digest('hex');
}

/**
 * The KubeConfig's credentials with one keep-alive agent. client-node 1.4 makes a new https.Agent for
 * every request (KubeConfig.applySecurityAuthentication → createAgent), so every call opened a TLS
 * connection of its own: against kube-apiserver that doubled the controller's CPU (47 s instead of 23 s
 * to converge 1,000 provisions, `npm run bench -- controller`). Headers (tokens, exec plugins) still come
 * from the KubeConfig on each request; the agent is replaced when the TLS settings change. Plain HTTP and
 * proxy agents are left as they are.
 */
function keepAliveAuthentication(kubeConfig: KubeConfig): SecurityAuthentication {
  let pooled: { identity: string; agent: Agent } | undefined;
  return {
    getName: () => 'kubeconfig-keep-alive',
    async applySecurityAuthentication(context) {
      await kubeConfig.applySecurityAuthentication(context);
      const fresh = context.getAgent();
      if (!fresh || fresh.constructor !== Agent) return;
      const identity = tlsIdentity((fresh as Agent).options);
      if (pooled?.identity !== identity) {
        pooled?.agent.destroy();
        pooled = { identity, agent: new Agent({ ...(fresh as Agent).options, keepAlive: true }) };
      }
      context.setAgent(pooled.agent);
    },
  };
}

/** `kubeConfig.makeApiClient(Api)`, with connections reused across requests (and across clients given the same `auth`). */
function apiClient<T>(
  kubeConfig: KubeConfig,
  Api: new (configuration: Configuration) => T,
  auth = keepAliveAuthentication(kubeConfig),
): T {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return new Api(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: auth },
    }),
  );
}

/** The ports, implemented with client-node 1.4's object-parameter APIs. */
export function createKubePorts(kubeConfig: KubeConfig): KubePorts {
  const auth = keepAliveAuthentication(kubeConfig);
  const custom = apiClient(kubeConfig, CustomObjectsApi, auth);
  const core = apiClient(kubeConfig, CoreV1Api, auth);
  const coordination = apiClient(kubeConfig, CoordinationV1Api, auth);
  const resource = { group: API_GROUP, version: API_VERSION, plural: PLURAL };

  return {
    provisions: {
      get: (namespace, name) =>
        orUndefined(
          custom.getNamespacedCustomObject({ ...resource, namespace, name }) as Promise<CdmSinkProvision>,
        ),
      patch: (namespace, name, body) =>
        custom.patchNamespacedCustomObject(
          { ...resource, namespace, name, body, fieldManager: FIELD_MANAGER },
          mergePatch(),
        ) as Promise<CdmSinkProvision>,
      patchStatus: (namespace, name, body) =>
        custom.patchNamespacedCustomObjectStatus(
          { ...resource, namespace, name, body, fieldManager: FIELD_MANAGER },
          mergePatch(),
        ) as Promise<CdmSinkProvision>,
    },
    secrets: {
      read: (namespace, name) => orUndefined(core.readNamespacedSecret({ namespace, name })),
    },
    events: {
      create: (namespace, body) => core.createNamespacedEvent({ namespace, body }),
      patch: (namespace, name, body) => core.patchNamespacedEvent({ namespace, name, body }, mergePatch()),
    },
    leases: {
      get: (namespace, name, signal) =>
        orUndefined(coordination.readNamespacedLease({ namespace, name }, abortable(signal))),
      create: (namespace, body, signal) =>
        coordination.createNamespacedLease({ namespace, body }, abortable(signal)),
      replace: (namespace, name, body, signal) =>
        coordination.replaceNamespacedLease({ namespace, name, body }, abortable(signal)),
    },
  };
}

/** The informer's list call for one namespace, or all of them when `namespace` is undefined. */
export function provisionLister(
  kubeConfig: KubeConfig,
  namespace: string | undefined,
): (signal?: AbortSignal) => Promise<{ items: CdmSinkProvision[]; metadata?: { resourceVersion?: string } }> {
  const custom = apiClient(kubeConfig, CustomObjectsApi);
  const resource = { group: API_GROUP, version: API_VERSION, plural: PLURAL };
  return (signal) =>
    (namespace === undefined
      ? custom.listClusterCustomObject(resource, abortable(signal))
      : custom.listNamespacedCustomObject({ ...resource, namespace }, abortable(signal))) as Promise<{
      items: CdmSinkProvision[];
      metadata?: { resourceVersion?: string };
    }>;
}

/** The watch path matching `provisionLister`. */
export function provisionWatchPath(namespace: string | undefined): string {
  return namespace === undefined
    ? `/apis/${API_GROUP}/${API_VERSION}/${PLURAL}`
    : `/apis/${API_GROUP}/${API_VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}`;
}
