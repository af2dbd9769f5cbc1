/**
 * Legacy (unaggregated) discovery documents: `/api`, `/apis`, `/apis/{g}`, `/api/v1`, `/apis/{g}/{v}`.
 * `KubernetesObjectApi` reads the APIResourceList to map a kind to its plural and scope.
 */
import type { JsonObject } from './json.js';
import type { ResourceRegistry } from './resource-registry.js';
import type { ResourceType } from './resource-type.js';

function groupVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

function apiResources(types: readonly ResourceType[]): JsonObject[] {
  const resources: JsonObject[] = [];
  for (const t of types) {
    const resource: JsonObject = {
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: [...t.verbs],
    };
    if (t.shortNames.length > 0) resource.shortNames = [...t.shortNames];
    if (t.categories.length > 0) resource.categories = [...t.categories];
    resources.push(resource);
    if (t.statusSubresource) {
      resources.push({
        name: `${t.plural}/status`,
        singularName: '',
        namespaced: t.namespaced,
        kind: t.kind,
        verbs: ['get', 'patch', 'update'],
      });
    }
  }
  return resources;
}

export function apiVersions(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(registry: ResourceRegistry, group: string): JsonObject | undefined {
  const entry = registry.groups().find((g) => g.group === group);
  if (!entry) return undefined;
  const versions = entry.versions.map((version) => ({
    groupVersion: groupVersionOf(group, version),
    version,
  }));
  return { name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupList(registry: ResourceRegistry): JsonObject {
  const groups = registry
    .groups()
    .filter((g) => g.group !== '')
    .map((g) => apiGroup(registry, g.group));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroupDocument(registry: ResourceRegistry, group: string): JsonObject | undefined {
  const doc = apiGroup(registry, group);
  return doc && { kind: 'APIGroup', apiVersion: 'v1', ...doc };
}

export function apiResourceList(
  registry: ResourceRegistry,
  group: string,
  version: string,
): JsonObject | undefined {
  if (!registry.hasGroupVersion(group, version)) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersionOf(group, version),
    resources: apiResources(registry.resourcesIn(group, version)),
  };
}

export function versionInfo(): JsonObject {
  return {
    major: '1',
    minor: '31',
    gitVersion: 'v1.31.0-fake',
    gitCommit: 'fake',
    gitTreeState: 'clean',
    buildDate: '2024-01-01T00:00:00Z',
    goVersion: 'go1.22',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}
