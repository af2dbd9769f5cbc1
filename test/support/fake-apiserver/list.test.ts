import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './index.js';
import {
  apiFailure,
  type Clients,
  clientsFor,
  GROUP,
  NS,
  VERSION,
  WIDGETS,
  widget,
  widgetCrd,
} from './test-fixtures.js';

let server: FakeApiServer;
let api: Clients;

const list = (params: Record<string, string | number> = {}) =>
  api.custom.listNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NS,
    plural: WIDGETS,
    ...params,
  });

beforeAll(async () => {
  server = await startFakeApiServer({ crds: [widgetCrd] });
  api = clientsFor(server);
  const labels: Array<Record<string, string>> = [
    { app: 'a', tier: 'db' },
    { app: 'a', tier: 'web' },
    { app: 'b' },
    { app: 'c', tier: 'db' },
    {},
  ];
  labels.forEach((l, i) => {
    server.create({ ...widget(`w${i}`), metadata: { name: `w${i}`, namespace: NS, labels: l } });
  });
  server.create({
    ...widget('other'),
    metadata: { name: 'other', namespace: 'elsewhere', labels: { app: 'a' } },
  });
});
afterAll(() => server.close());

const names = (l: { items: Array<{ metadata: { name: string } }> }) => l.items.map((i) => i.metadata.name);

describe('list', () => {
  it('returns a typed list whose metadata.resourceVersion is the current revision', async () => {
    const before = server.create(widget('rv-probe')).metadata?.resourceVersion;
    const result = await list();
    expect(result.kind).toBe('WidgetList');
    expect(result.apiVersion).toBe(`${GROUP}/${VERSION}`);
    expect(result.metadata.resourceVersion).toBe(before);
    expect(result.items[0]).toMatchObject({ apiVersion: `${GROUP}/${VERSION}`, kind: 'Widget' });
    server.delete(`${GROUP}/${VERSION}`, 'Widget', NS, 'rv-probe');
  });

  it('lists across namespaces on the cluster-wide path', async () => {
    const all = await api.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: WIDGETS });
    expect(names(all)).toContain('other');
    expect(names(await list())).not.toContain('other');
  });

  it.each([
    ['app=a', ['w0', 'w1']],
    ['app==a', ['w0', 'w1']],
    ['app!=a', ['w2', 'w3', 'w4']],
    ['app in (a, b)', ['w0', 'w1', 'w2']],
    ['app notin (a,b)', ['w3', 'w4']],
    ['tier', ['w0', 'w1', 'w3']],
    ['!tier', ['w2', 'w4']],
    ['app=a,tier=db', ['w0']],
  ])('filters with labelSelector %s', async (labelSelector, expected) => {
    expect(names(await list({ labelSelector }))).toEqual(expected);
  });

  it('filters with fieldSelector on metadata.name and metadata.namespace', async () => {
    expect(names(await list({ fieldSelector: 'metadata.name=w3' }))).toEqual(['w3']);
    expect(names(await list({ fieldSelector: 'metadata.name!=w3' }))).not.toContain('w3');
    const elsewhere = await api.custom.listClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: WIDGETS,
      fieldSelector: 'metadata.namespace=elsewhere',
    });
    expect(names(elsewhere)).toEqual(['other']);
  });

  it('rejects unsupported field labels and malformed label selectors with 400', async () => {
    expect((await apiFailure(list({ fieldSelector: 'spec.size=small' }))).code).toBe(400);
    expect((await apiFailure(list({ labelSelector: 'app in a' }))).code).toBe(400);
  });

  it('paginates with limit/continue over a consistent snapshot', async () => {
    const first = await list({ limit: 2 });
    expect(names(first)).toEqual(['w0', 'w1']);
    expect(first.metadata.remainingItemCount).toBe(3);
    // Writes after the first page must not leak into later pages of the same list.
    server.create(widget('w00-late'));
    server.delete(`${GROUP}/${VERSION}`, 'Widget', NS, 'w4');
    const second = await list({ limit: 2, _continue: first.metadata.continue });
    expect(names(second)).toEqual(['w2', 'w3']);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const third = await list({ limit: 2, _continue: second.metadata.continue });
    expect(names(third)).toEqual(['w4']);
    expect(third.metadata.continue).toBeUndefined();
    server.create({ ...widget('w4'), metadata: { name: 'w4', namespace: NS } });
    server.delete(`${GROUP}/${VERSION}`, 'Widget', NS, 'w00-late');
  });

  it('answers an expired continue token with 410 Expired', async () => {
    const first = await list({ limit: 1 });
    // Compaction at a revision newer than the token's makes the token's snapshot unreadable.
    server.create(widget('after-compaction'));
    server.faults.compact();
    const { code, status } = await apiFailure(list({ limit: 1, _continue: first.metadata.continue }));
    expect(code).toBe(410);
    expect(status.reason).toBe('Expired');
    server.delete(`${GROUP}/${VERSION}`, 'Widget', NS, 'after-compaction');
  });

  it('omits apiVersion and kind on items of built-in typed lists', async () => {
    await api.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'cm' } } });
    const res = await fetch(`${server.url}/api/v1/namespaces/${NS}/configmaps`);
    const body = (await res.json()) as { kind: string; items: Array<Record<string, unknown>> };
    expect(body.kind).toBe('ConfigMapList');
    expect(body.items[0]?.kind).toBeUndefined();
  });
});
