import { KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './index.js';
import {
  apiFailure,
  type Clients,
  clientsFor,
  GROUP,
  gizmoCrd,
  NS,
  VERSION,
  WIDGETS,
  type WidgetObject,
  widget,
  widgetCrd,
  widgetRef,
} from './test-fixtures.js';

let server: FakeApiServer;
let api: Clients;

beforeAll(async () => {
  server = await startFakeApiServer({ crds: [widgetCrd, gizmoCrd] });
  api = clientsFor(server);
});
afterAll(() => server.close());

const createWidget = (body: object) =>
  api.custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NS,
    plural: WIDGETS,
    body,
  });

describe('create and get', () => {
  it('stamps uid, creationTimestamp, generation 1 and a resourceVersion', async () => {
    const created: WidgetObject = await createWidget(widget('stamped'));
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(created.metadata.generation).toBe(1);
    expect(created.metadata.resourceVersion).toMatch(/^\d+$/);
    const read: WidgetObject = await api.custom.getNamespacedCustomObject(widgetRef('stamped'));
    expect(read).toEqual(created);
  });

  it('bumps one global resourceVersion on every write, across kinds', async () => {
    const a: WidgetObject = await createWidget(widget('rv-a'));
    const secret = await api.core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'rv-secret' }, stringData: { password: 'x' } },
    });
    const b: WidgetObject = await createWidget(widget('rv-b'));
    const rvs = [
      a.metadata.resourceVersion,
      secret.metadata?.resourceVersion,
      b.metadata.resourceVersion,
    ].map(Number);
    expect(rvs[1]).toBeGreaterThan(rvs[0] ?? Infinity);
    expect(rvs[2]).toBeGreaterThan(rvs[1] ?? Infinity);
  });

  it('generates a name from generateName', async () => {
    const created: WidgetObject = await createWidget({ ...widget(''), metadata: { generateName: 'gen-' } });
    expect(created.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });

  it('answers a duplicate create with 409 AlreadyExists', async () => {
    await createWidget(widget('dup'));
    const { code, status } = await apiFailure(createWidget(widget('dup')));
    expect(code).toBe(409);
    expect(status).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'AlreadyExists',
      message: 'widgets.example.test "dup" already exists',
      details: { name: 'dup', group: GROUP, kind: WIDGETS },
      code: 409,
    });
  });

  it('answers a missing object with 404 NotFound and a Status body', async () => {
    const { code, status, headers } = await apiFailure(
      api.custom.getNamespacedCustomObject(widgetRef('nope')),
    );
    expect(code).toBe(404);
    expect(headers['content-type']).toBe('application/json');
    expect(status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'widgets.example.test "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', group: GROUP, kind: WIDGETS },
      code: 404,
    });
  });

  it('refuses content in a namespace that does not exist', async () => {
    const { code, status } = await apiFailure(
      api.custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: 'missing',
        plural: WIDGETS,
        body: widget('x', {}, { metadata: { name: 'x', namespace: 'missing' } }),
      }),
    );
    expect(code).toBe(404);
    expect(status.message).toBe('namespaces "missing" not found');
  });

  it('rejects a body whose apiVersion does not match the endpoint', async () => {
    const { code, status } = await apiFailure(
      createWidget({ ...widget('v'), apiVersion: 'example.test/v2' }),
    );
    expect(code).toBe(400);
    expect(status.reason).toBe('BadRequest');
  });

  it('validates but does not persist a dryRun=All create', async () => {
    const dry: WidgetObject = await api.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: WIDGETS,
      body: widget('dry'),
      dryRun: 'All',
    });
    expect(dry.spec.replicas).toBe(1);
    expect(dry.metadata.resourceVersion).toBeUndefined();
    expect((await apiFailure(api.custom.getNamespacedCustomObject(widgetRef('dry')))).code).toBe(404);
  });

  it('serves cluster-scoped custom resources', async () => {
    const body = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Gizmo',
      metadata: { name: 'g1' },
      spec: { any: { thing: 1 } },
    };
    const created = await api.custom.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'gizmos',
      body,
    });
    expect(created.metadata.namespace).toBeUndefined();
    expect(created.spec).toEqual({ any: { thing: 1 } });
  });
});

describe('delete', () => {
  it('removes an object without finalizers and answers with a success Status', async () => {
    const created: WidgetObject = await createWidget(widget('gone'));
    const result = await api.custom.deleteNamespacedCustomObject(widgetRef('gone'));
    expect(result).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: 'gone', group: GROUP, kind: WIDGETS, uid: created.metadata.uid },
    });
    await apiFailure(api.custom.getNamespacedCustomObject(widgetRef('gone')));
  });

  it('is parsed by CoreV1Api as a V1Status for built-in kinds', async () => {
    await api.core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'cm-del' }, data: { a: 'b' } },
    });
    const status = await api.core.deleteNamespacedConfigMap({ namespace: NS, name: 'cm-del' });
    expect(status.status).toBe('Success');
    expect(status.details?.name).toBe('cm-del');
  });

  it('honours a uid precondition', async () => {
    await createWidget(widget('pre'));
    const { code, status } = await apiFailure(
      api.custom.deleteNamespacedCustomObject({
        ...widgetRef('pre'),
        body: { preconditions: { uid: 'other' } },
      }),
    );
    expect(code).toBe(409);
    expect(status.message).toContain('Precondition failed: UID in precondition: other');
  });
});

describe('direct store access', () => {
  it('seeds objects that HTTP clients then see, creating the namespace on demand', async () => {
    const seeded = server.create<WidgetObject>({
      ...widget('seeded'),
      metadata: { name: 'seeded', namespace: 'seeding' },
    });
    expect(seeded.metadata?.resourceVersion).toBeDefined();
    expect(server.get('v1', 'Namespace', undefined, 'seeding')).toBeDefined();
    const read = await api.custom.getNamespacedCustomObject({ ...widgetRef('seeded'), namespace: 'seeding' });
    expect(read.metadata.uid).toBe(seeded.metadata?.uid);
    expect(server.list(`${GROUP}/${VERSION}`, 'Widget', 'seeding')).toHaveLength(1);
  });

  it('validates seeded custom resources and throws a FakeApiError with the Status', () => {
    expect(() => server.create(widget('bad', { size: 'huge' }))).toThrowError(/Unsupported value: "huge"/);
  });

  it('updates with PUT semantics and deletes like DELETE', () => {
    const created = server.create(widget('direct')) as WidgetObject;
    const updated = server.update({ ...created, spec: { ...created.spec, size: 'large' } }) as WidgetObject;
    expect(updated.metadata.generation).toBe(2);
    expect(() => server.update(created)).toThrowError(/the object has been modified/);
    server.delete(`${GROUP}/${VERSION}`, 'Widget', NS, 'direct');
    expect(server.get(`${GROUP}/${VERSION}`, 'Widget', NS, 'direct')).toBeUndefined();
  });
});

describe('generic clients', () => {
  it('lets KubernetesObjectApi discover plurals and scope', async () => {
    const objects = KubernetesObjectApi.makeApiClient(server.kubeConfig());
    const created = await objects.create(widget('generic'));
    expect(created.metadata?.name).toBe('generic');
    const read = await objects.read({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Widget',
      metadata: { name: 'generic', namespace: NS },
    });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
    const secrets = await objects.list('v1', 'Secret', NS);
    expect(secrets.items.length).toBeGreaterThan(0);
  });

  it('records every request with its RequestInfo', async () => {
    await api.custom.getNamespacedCustomObject(widgetRef('stamped'));
    const last = server.requests.at(-1);
    expect(last).toMatchObject({
      method: 'GET',
      path: `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${WIDGETS}/stamped`,
      status: 200,
      verb: 'get',
      group: GROUP,
      version: VERSION,
      resource: WIDGETS,
      subresource: '',
      namespace: NS,
      name: 'stamped',
    });
  });

  it('records who sent a request, named by the bearer token of kubeConfig({ user })', async () => {
    const objects = KubernetesObjectApi.makeApiClient(server.kubeConfig({ user: 'replica-a' }));
    await objects.list('v1', 'Secret', NS);
    expect(server.requests.at(-1)?.user).toBe('replica-a');
  });

  it('numbers requests in the order they were answered, which a delayed one changes', async () => {
    const objects = KubernetesObjectApi.makeApiClient(server.kubeConfig());
    server.faults.delay(300, { pathIncludes: '/configmaps' });
    const slow = objects.list('v1', 'ConfigMap', NS);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await objects.list('v1', 'Secret', NS);
    await slow;
    server.faults.delay(0);
    const [configMaps, secrets] = [
      server.requests.findLast((r) => r.resource === 'configmaps'),
      server.requests.findLast((r) => r.resource === 'secrets'),
    ];
    expect(server.requests.indexOf(configMaps!)).toBeLessThan(server.requests.indexOf(secrets!));
    expect(configMaps!.answered).toBeGreaterThan(secrets!.answered);
  });
});
