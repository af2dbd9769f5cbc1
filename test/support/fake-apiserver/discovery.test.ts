import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './index.js';
import { GROUP, VERSION, widgetCrd } from './test-fixtures.js';

let server: FakeApiServer;

beforeAll(async () => {
  server = await startFakeApiServer({ crds: [widgetCrd] });
});
afterAll(() => server.close());

const getJson = async (path: string) => {
  const res = await fetch(`${server.url}${path}`);
  expect(res.headers.get('content-type')).toBe('application/json');
  return (await res.json()) as Record<string, unknown>;
};

describe('discovery', () => {
  it('lists the core version and the API groups, CRD groups included', async () => {
    expect(await getJson('/api')).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await getJson('/apis')) as { groups: Array<{ name: string; preferredVersion: unknown }> };
    expect(groups.groups.map((g) => g.name)).toEqual(
      expect.arrayContaining(['events.k8s.io', 'coordination.k8s.io', 'apiextensions.k8s.io', GROUP]),
    );
    expect(await getJson(`/apis/${GROUP}`)).toMatchObject({
      kind: 'APIGroup',
      name: GROUP,
      preferredVersion: { groupVersion: `${GROUP}/${VERSION}`, version: VERSION },
    });
  });

  it('describes resources with scope, kind, verbs, shortNames and the status subresource', async () => {
    const list = (await getJson(`/apis/${GROUP}/${VERSION}`)) as {
      resources: Array<Record<string, unknown>>;
    };
    expect(list.resources).toEqual([
      {
        name: 'widgets',
        singularName: 'widget',
        namespaced: true,
        kind: 'Widget',
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        shortNames: ['wg'],
      },
      {
        name: 'widgets/status',
        singularName: '',
        namespaced: true,
        kind: 'Widget',
        verbs: ['get', 'patch', 'update'],
      },
    ]);
    const core = (await getJson('/api/v1')) as { resources: Array<{ name: string }> };
    expect(core.resources.map((r) => r.name)).toEqual(
      expect.arrayContaining(['namespaces', 'namespaces/status', 'secrets', 'configmaps', 'events']),
    );
  });

  it('serves the loaded CRDs read-only', async () => {
    const crd = await getJson(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.${GROUP}`);
    expect(crd).toMatchObject({ kind: 'CustomResourceDefinition', spec: { group: GROUP } });
    const res = await fetch(
      `${server.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.${GROUP}`,
      {
        method: 'DELETE',
      },
    );
    expect(res.status).toBe(405);
  });

  it('answers unknown resources with a NotFound Status', async () => {
    const res = await fetch(`${server.url}/apis/${GROUP}/${VERSION}/namespaces/default/unknowns`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
  });
});
