/**
 * In-process fake Kubernetes API server for controller tests, driven by the real `@kubernetes/client-node`.
 *
 * ```ts
 * const api = await startFakeApiServer({ crds: [widgetCrd] });
 * const co = api.kubeConfig().makeApiClient(CustomObjectsApi);
 * await co.createNamespacedCustomObject({ group, version, namespace: 'default', plural, body });
 * await api.close();
 * ```
 */
export type { FailureMatch, FaultControls, RequestMatch } from './faults.js';
export { FakeApiError, startFakeApiServer } from './server.js';
export type { StatusBody, StatusCause, StatusDetails } from './status-errors.js';
export type { FakeApiServer, FakeApiServerOptions, RecordedRequest } from './types.js';
