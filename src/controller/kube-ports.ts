import type { CoreV1Event, V1Lease, V1Secret } from '@kubernetes/client-node';
import type { CdmSinkProvision } from '../api/types.js';

/**
 * The Kubernetes calls the controller makes, as narrow ports (controller-runtime `client.Reader` /
 * `Writer` / `StatusWriter`). The work loop depends on these, not on client-node, so its unit tests run
 * against in-memory fakes; `kube-clients.ts` implements them with client-node. This list is also the
 * whole of what RBAC must grant (`manifests/rbac/`).
 */

export interface ProvisionClient {
  /** GET; undefined when the object is gone. */
  get(namespace: string, name: string): Promise<CdmSinkProvision | undefined>;
  /** JSON merge patch of the main resource (finalizers); put `metadata.resourceVersion` in `body` as a precondition. */
  patch(namespace: string, name: string, body: object): Promise<CdmSinkProvision>;
  /** JSON merge patch of the `/status` subresource. */
  patchStatus(namespace: string, name: string, body: object): Promise<CdmSinkProvision>;
}

export interface SecretClient {
  /** GET; undefined when the Secret does not exist. */
  read(namespace: string, name: string): Promise<V1Secret | undefined>;
}

export interface EventClient {
  create(namespace: string, event: CoreV1Event): Promise<CoreV1Event>;
  /** JSON merge patch (count and lastTimestamp of an aggregated Event). */
  patch(namespace: string, name: string, body: object): Promise<CoreV1Event>;
}

/**
 * Every call takes a signal that aborts the request: leader election bounds each attempt, as client-go
 * bounds each try with a context, so one hung request cannot freeze it.
 */
export interface LeaseClient {
  /** GET; undefined when the Lease does not exist. */
  get(namespace: string, name: string, signal?: AbortSignal): Promise<V1Lease | undefined>;
  create(namespace: string, lease: V1Lease, signal?: AbortSignal): Promise<V1Lease>;
  /** PUT with `metadata.resourceVersion`: a concurrent change fails with 409. */
  replace(namespace: string, name: string, lease: V1Lease, signal?: AbortSignal): Promise<V1Lease>;
}

export interface KubePorts {
  readonly provisions: ProvisionClient;
  readonly secrets: SecretClient;
  readonly events: EventClient;
  readonly leases: LeaseClient;
}
