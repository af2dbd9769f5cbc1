import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, type CdmSinkProvision, PLURAL } from '../api/types.js';
import { isNotFound } from './api-errors.js';
import type { KubePorts } from './kube-ports.js';

/** Identifies our writes in `managedFields` and audit logs. */
export const FIELD_MANAGER = 'cdm-sink-controller';

// Without the explicit header the client sends json-patch (notes/kubernetes-client.md §1.5).
const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The ports, implemented with client-node 1.4's object-parameter APIs. */
export function createKubePorts(kubeConfig: KubeConfig): KubePorts {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const coordination = kubeConfig.makeApiClient(CoordinationV1Api);
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
      get: (namespace, name) => orUndefined(coordination.readNamespacedLease({ namespace, name })),
      create: (namespace, body) => coordination.createNamespacedLease({ namespace, body }),
      replace: (namespace, name, body) => coordination.replaceNamespacedLease({ namespace, name, body }),
    },
  };
}

/** The informer's list call for one namespace, or all of them when `namespace` is undefined. */
export function provisionLister(
  kubeConfig: KubeConfig,
  namespace: string | undefined,
): () => Promise<{ items: CdmSinkProvision[]; metadata?: { resourceVersion?: string } }> {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const resource = { group: API_GROUP, version: API_VERSION, plural: PLURAL };
  return () =>
    (namespace === undefined
      ? custom.listClusterCustomObject(resource)
      : custom.listNamespacedCustomObject({ ...resource, namespace })) as Promise<{
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
