import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './index.js';
import {
  apiFailure,
  type Clients,
  clientsFor,
  eventually,
  GROUP,
  NS,
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

beforeAll(async () => {
  server = await startFakeApiServer({ crds: [widgetCrd] });
  api = clientsFor(server);
});
afterAll(() => server.close());

const withFinalizers = (name: string, finalizers: string[]) =>
  server.create({ ...widget(name), metadata: { name, namespace: NS, finalizers } }) as WidgetObject;

describe('finalizers and deletion', () => {
  it('marks an object with finalizers as deleting, then removes it when the last finalizer goes', async () => {
    const w = withFinalizers('lifecycle', ['example.test/cleanup', 'example.test/other']);
    const watch = await openWatch(api.kc, widgetsPath, {
      resourceVersion: w.metadata.resourceVersion,
      fieldSelector: 'metadata.name=lifecycle',
    });

    const deleting: WidgetObject = await api.custom.deleteNamespacedCustomObject(widgetRef('lifecycle'));
    expect(deleting.metadata.deletionTimestamp).toMatch(/Z$/);
    expect(deleting.metadata.deletionGracePeriodSeconds).toBe(0);
    // Marking an object as deleting changes what its controller must do: the generation moves.
    expect(deleting.metadata.generation).toBe(2);
    const again: WidgetObject = await api.custom.deleteNamespacedCustomObject(widgetRef('lifecycle'));
    expect(again.metadata.resourceVersion).toBe(deleting.metadata.resourceVersion);

    const one: WidgetObject = await api.custom.patchNamespacedCustomObject(
      { ...widgetRef('lifecycle'), body: { metadata: { finalizers: ['example.test/other'] } } },
      merge,
    );
    expect(one.metadata.deletionTimestamp).toBe(deleting.metadata.deletionTimestamp);

    await api.custom.patchNamespacedCustomObject(
      { ...widgetRef('lifecycle'), body: { metadata: { finalizers: null } } },
      merge,
    );
    await apiFailure(api.custom.getNamespacedCustomObject(widgetRef('lifecycle')));
    await eventually(() =>
      expect(watch.events.map((e) => e.type)).toEqual(['MODIFIED', 'MODIFIED', 'DELETED']),
    );
    const deleted = watch.events[2]?.object as WidgetObject;
    expect(Number(deleted.metadata.resourceVersion)).toBeGreaterThan(Number(one.metadata.resourceVersion));
    watch.abort();
  });

  it('refuses to add a new finalizer to an object being deleted', async () => {
    withFinalizers('no-new', ['example.test/cleanup']);
    await api.custom.deleteNamespacedCustomObject(widgetRef('no-new'));
    const { code, status } = await apiFailure(
      api.custom.patchNamespacedCustomObject(
        {
          ...widgetRef('no-new'),
          body: { metadata: { finalizers: ['example.test/cleanup', 'example.test/late'] } },
        },
        merge,
      ),
    );
    expect(code).toBe(422);
    expect(status.reason).toBe('Invalid');
    expect(status.details?.causes?.[0]).toMatchObject({
      reason: 'FieldValueForbidden',
      field: 'metadata.finalizers',
    });
    expect(status.message).toContain(
      'Forbidden: no new finalizers can be added if the object is being deleted',
    );
  });

  it('does not let clients clear or set deletionTimestamp', async () => {
    withFinalizers('keep-ts', ['example.test/cleanup']);
    const deleting: WidgetObject = await api.custom.deleteNamespacedCustomObject(widgetRef('keep-ts'));
    const cleared: WidgetObject = await api.custom.replaceNamespacedCustomObject({
      ...widgetRef('keep-ts'),
      body: {
        ...deleting,
        metadata: { ...deleting.metadata, deletionTimestamp: undefined, labels: { a: 'b' } },
      },
    });
    expect(cleared.metadata.deletionTimestamp).toBe(deleting.metadata.deletionTimestamp);
    server.create(widget('set-ts'));
    const { code } = await apiFailure(
      api.custom.patchNamespacedCustomObject(
        { ...widgetRef('set-ts'), body: { metadata: { deletionTimestamp: '2024-01-01T00:00:00Z' } } },
        merge,
      ),
    );
    expect(code).toBe(422);
  });

  it('deletes immediately through an update that empties finalizers on a deleting object (PUT)', async () => {
    withFinalizers('put-remove', ['example.test/cleanup']);
    const deleting: WidgetObject = await api.custom.deleteNamespacedCustomObject(widgetRef('put-remove'));
    const released: WidgetObject = await api.custom.replaceNamespacedCustomObject({
      ...widgetRef('put-remove'),
      body: { ...deleting, metadata: { ...deleting.metadata, finalizers: [] } },
    });
    expect(server.get(`${GROUP}/${VERSION}`, 'Widget', NS, 'put-remove')).toBeUndefined();
    // The answer is the object the update computed, never stored: no finalizers, the old resourceVersion.
    expect(released.metadata.finalizers).toEqual([]);
    expect(released.metadata.resourceVersion).toBe(deleting.metadata.resourceVersion);
  });
});
