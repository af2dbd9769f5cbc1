import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './index.js';
import {
  apiFailure,
  type Clients,
  clientsFor,
  eventually,
  GIZMOS,
  GROUP,
  gizmoCrd,
  openWatch,
  VERSION,
  type WidgetObject,
  widget,
  widgetCrd,
  widgetRef,
  widgetsPath,
} from './test-fixtures.js';

let server: FakeApiServer;
let api: Clients;
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const condition = {
  type: 'Ready',
  status: 'True',
  reason: 'Succeeded',
  message: 'ok',
  lastTransitionTime: '2024-01-01T00:00:00Z',
};

beforeAll(async () => {
  server = await startFakeApiServer({ crds: [widgetCrd, gizmoCrd] });
  api = clientsFor(server);
});
afterAll(() => server.close());

const patchStatus = (name: string, body: unknown) =>
  api.custom.patchNamespacedCustomObjectStatus({ ...widgetRef(name), body }, merge);

describe('status subresource', () => {
  it('drops .status on create', async () => {
    const created: WidgetObject = await api.custom.createNamespacedCustomObject({
      ...widgetRef('x'),
      body: { ...widget('created-with-status'), status: { phase: 'Ready' } },
    });
    expect(created.status).toBeUndefined();
  });

  it('applies only .status through /status, bumping resourceVersion but not generation', async () => {
    const w = server.create(widget('status-only')) as WidgetObject;
    const watch = await openWatch(api.kc, widgetsPath, {
      resourceVersion: w.metadata.resourceVersion,
      fieldSelector: 'metadata.name=status-only',
    });
    const patched: WidgetObject = await patchStatus('status-only', {
      metadata: { labels: { sneaky: 'yes' } },
      spec: { size: 'large' },
      status: { observedGeneration: 1, phase: 'Ready', conditions: [condition] },
    });
    expect(patched.status).toEqual({ observedGeneration: 1, phase: 'Ready', conditions: [condition] });
    expect(patched.spec.size).toBe('small');
    expect(patched.metadata.labels).toBeUndefined();
    expect(patched.metadata.generation).toBe(1);
    expect(Number(patched.metadata.resourceVersion)).toBeGreaterThan(Number(w.metadata.resourceVersion));
    await eventually(() => expect(watch.events.map((e) => e.type)).toEqual(['MODIFIED']));
    watch.abort();
    expect(server.requests.at(-1)).toMatchObject({
      verb: 'patch',
      subresource: 'status',
      contentType: 'application/merge-patch+json',
    });
  });

  it('ignores .status written through the main endpoint', async () => {
    server.create(widget('main-ignores'));
    const withStatus: WidgetObject = await patchStatus('main-ignores', { status: { phase: 'Ready' } });
    const replaced: WidgetObject = await api.custom.replaceNamespacedCustomObject({
      ...widgetRef('main-ignores'),
      body: { ...withStatus, spec: { ...withStatus.spec, size: 'large' }, status: { phase: 'Failed' } },
    });
    expect(replaced.spec.size).toBe('large');
    expect(replaced.status).toEqual({ phase: 'Ready' });
    expect(replaced.metadata.generation).toBe(2);
  });

  it('replaces status with PUT /status and still checks the resourceVersion', async () => {
    const w = server.create(widget('put-status')) as WidgetObject;
    const updated: WidgetObject = await api.custom.replaceNamespacedCustomObjectStatus({
      ...widgetRef('put-status'),
      body: { ...w, status: { phase: 'Pending' } },
    });
    expect(updated.status).toEqual({ phase: 'Pending' });
    const { code } = await apiFailure(
      api.custom.replaceNamespacedCustomObjectStatus({
        ...widgetRef('put-status'),
        body: { ...w, status: { phase: 'Ready' } },
      }),
    );
    expect(code).toBe(409);
  });

  it('validates status writes against the status schema', async () => {
    server.create(widget('bad-status'));
    const { code, status } = await apiFailure(
      patchStatus('bad-status', { status: { conditions: [{ ...condition, reason: 'not a reason' }] } }),
    );
    expect(code).toBe(422);
    expect(status.details?.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'status.conditions[0].reason',
        message: `Invalid value: "not a reason": status.conditions[0].reason in body should match '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$'`,
      },
    ]);
  });

  it('returns the full object from GET /status', async () => {
    server.create(widget('get-status'));
    const read: WidgetObject = await api.custom.getNamespacedCustomObjectStatus(widgetRef('get-status'));
    expect(read.spec.size).toBe('small');
  });

  it('answers /status with 404 when the CRD declares no status subresource', async () => {
    server.create({ apiVersion: `${GROUP}/${VERSION}`, kind: 'Gizmo', metadata: { name: 'g' }, spec: {} });
    const { code } = await apiFailure(
      api.custom.patchClusterCustomObjectStatus(
        { group: GROUP, version: VERSION, plural: GIZMOS, name: 'g', body: { status: { phase: 'x' } } },
        merge,
      ),
    );
    expect(code).toBe(404);
  });

  it('bumps generation on status changes when status is not a subresource', async () => {
    const patched = await api.custom.patchClusterCustomObject(
      { group: GROUP, version: VERSION, plural: GIZMOS, name: 'g', body: { status: { phase: 'Ready' } } },
      merge,
    );
    expect(patched.status).toEqual({ phase: 'Ready' });
    expect(patched.metadata.generation).toBe(2);
  });
});
