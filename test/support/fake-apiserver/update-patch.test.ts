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
  WIDGETS,
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

const seed = (name: string) => server.create(widget(name)) as WidgetObject;
const replace = (body: WidgetObject) =>
  api.custom.replaceNamespacedCustomObject({ ...widgetRef(body.metadata.name), body });
const patch = (name: string, body: unknown, options = merge) =>
  api.custom.patchNamespacedCustomObject({ ...widgetRef(name), body }, options);

describe('update (PUT)', () => {
  it('answers a stale resourceVersion with 409 Conflict', async () => {
    const stale = seed('stale');
    await replace({ ...stale, spec: { ...stale.spec, size: 'large' } });
    const { code, status } = await apiFailure(replace({ ...stale, spec: { ...stale.spec, replicas: 3 } }));
    expect(code).toBe(409);
    expect(status).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on widgets.example.test "stale": the object has been modified; ' +
        'please apply your changes to the latest version and try again',
      details: { name: 'stale', group: GROUP, kind: WIDGETS },
    });
  });

  it('requires metadata.resourceVersion on a custom resource PUT but not on built-ins', async () => {
    const w = seed('unconditional');
    const { resourceVersion: _rv, ...metadata } = w.metadata;
    const { code, status } = await apiFailure(replace({ ...w, metadata }));
    expect(code).toBe(422);
    expect(status.message).toBe(
      'widgets.example.test "unconditional" is invalid: metadata.resourceVersion: Invalid value: 0: ' +
        'must be specified for an update',
    );
    await api.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'uncond' } } });
    const cm = await api.core.replaceNamespacedConfigMap({
      namespace: NS,
      name: 'uncond',
      body: { metadata: { name: 'uncond' }, data: { a: 'b' } },
    });
    expect(cm.data).toEqual({ a: 'b' });
  });

  it('bumps generation only when something outside metadata and status changes', async () => {
    const w = seed('gen');
    const relabelled: WidgetObject = await replace({ ...w, metadata: { ...w.metadata, labels: { a: 'b' } } });
    expect(relabelled.metadata.generation).toBe(1);
    expect(Number(relabelled.metadata.resourceVersion)).toBeGreaterThan(Number(w.metadata.resourceVersion));
    const respecced: WidgetObject = await patch('gen', { spec: { replicas: 4 } });
    expect(respecced.metadata.generation).toBe(2);
    const ignoredGeneration: WidgetObject = await patch('gen', { metadata: { generation: 99 } });
    expect(ignoredGeneration.metadata.generation).toBe(2);
  });

  it('treats a write that changes nothing as a no-op: 200, same resourceVersion, no watch event', async () => {
    const w = seed('noop');
    const watch = await openWatch(api.kc, widgetsPath, {
      resourceVersion: w.metadata.resourceVersion,
      fieldSelector: 'metadata.name=noop',
    });
    const same: WidgetObject = await replace(w);
    expect(same.metadata.resourceVersion).toBe(w.metadata.resourceVersion);
    const samePatch: WidgetObject = await patch('noop', { spec: { size: 'small' } });
    expect(samePatch.metadata.resourceVersion).toBe(w.metadata.resourceVersion);
    await patch('noop', { spec: { size: 'large' } });
    await eventually(() => expect(watch.events.map((e) => e.type)).toEqual(['MODIFIED']));
    watch.abort();
  });

  it('keeps uid and creationTimestamp and refuses a different uid', async () => {
    const w = seed('immutable');
    const { code, status } = await apiFailure(replace({ ...w, metadata: { ...w.metadata, uid: 'other' } }));
    expect(code).toBe(422);
    expect(status.message).toContain('metadata.uid: Invalid value: "other": field is immutable');
  });
});

describe('patch', () => {
  it('treats metadata.resourceVersion in a merge patch as a precondition', async () => {
    const w = seed('patch-rv');
    await patch('patch-rv', { spec: { replicas: 2 } });
    const { code, status } = await apiFailure(
      patch('patch-rv', { metadata: { resourceVersion: w.metadata.resourceVersion }, spec: { replicas: 3 } }),
    );
    expect(code).toBe(409);
    expect(status.reason).toBe('Conflict');
  });

  it('merges per RFC 7386: nested objects merge, null deletes', async () => {
    seed('merge');
    const result: WidgetObject = await patch('merge', {
      spec: { endpoint: { schema: 'app' }, replicas: null },
    });
    expect(result.spec.endpoint).toEqual({ host: 'db.local', port: 5432, schema: 'app' });
    // replicas was removed by the patch and then defaulted again by the schema.
    expect(result.spec.replicas).toBe(1);
  });

  it('sends JSON patch by default, where a failed test op is 422 and a merge-style body is 400', async () => {
    seed('jsonpatch');
    const ok: WidgetObject = await api.custom.patchNamespacedCustomObject({
      ...widgetRef('jsonpatch'),
      body: [
        { op: 'test', path: '/spec/size', value: 'small' },
        { op: 'replace', path: '/spec/size', value: 'large' },
      ],
    });
    expect(ok.spec.size).toBe('large');
    expect(server.requests.at(-1)?.contentType).toBe('application/json-patch+json');
    const failed = await apiFailure(
      api.custom.patchNamespacedCustomObject({
        ...widgetRef('jsonpatch'),
        body: [{ op: 'test', path: '/spec/size', value: 'small' }],
      }),
    );
    expect(failed.code).toBe(422);
    expect(failed.status.details?.causes?.[0]?.message).toBe('testing value /spec/size failed: test failed');
    const malformed = await apiFailure(
      api.custom.patchNamespacedCustomObject({
        ...widgetRef('jsonpatch'),
        body: { spec: { size: 'small' } },
      }),
    );
    expect(malformed.code).toBe(400);
    expect(malformed.status.message).toContain(
      'cannot unmarshal object into Go value of type []handlers.jsonPatchOp',
    );
  });

  it('answers strategic merge patch on a custom resource with 415', async () => {
    seed('smp');
    const { code, status } = await apiFailure(
      patch(
        'smp',
        { spec: { size: 'large' } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      ),
    );
    expect(code).toBe(415);
    expect(status).toMatchObject({
      reason: 'UnsupportedMediaType',
      message:
        'the body of the request was in an unknown format - accepted media types include: ' +
        'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    });
  });

  it('accepts strategic merge patch for built-in kinds', async () => {
    await api.core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'smp-cm' }, data: { a: '1' } },
    });
    const patched = await api.core.patchNamespacedConfigMap(
      { namespace: NS, name: 'smp-cm', body: { data: { b: '2' } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(patched.data).toEqual({ a: '1', b: '2' });
  });

  it('answers an unknown patch content type with 415', async () => {
    seed('ctype');
    const res = await fetch(`${server.url}${widgetsPath}/ctype`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType', code: 415 });
  });

  it('requires fieldManager for server-side apply and creates missing objects', async () => {
    const apply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
    const body = widget('applied');
    const missingManager = await apiFailure(patch('applied', body, apply));
    expect(missingManager.code).toBe(422);
    expect(missingManager.status.message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    const created: WidgetObject = await api.custom.patchNamespacedCustomObject(
      { ...widgetRef('applied'), body, fieldManager: 'test', force: true },
      apply,
    );
    expect(created.metadata.generation).toBe(1);
    expect(server.requests.at(-1)?.status).toBe(201);
    const updated: WidgetObject = await api.custom.patchNamespacedCustomObject(
      {
        ...widgetRef('applied'),
        body: { ...body, spec: { ...body.spec, size: 'large' } },
        fieldManager: 'test',
      },
      apply,
    );
    expect(updated.spec.size).toBe('large');
  });

  it('rejects force on a non-apply patch', async () => {
    seed('force');
    const { code } = await apiFailure(
      api.custom.patchNamespacedCustomObject({ ...widgetRef('force'), body: {}, force: true }, merge),
    );
    expect(code).toBe(422);
  });

  it('answers a patch of a missing object with 404', async () => {
    expect((await apiFailure(patch('absent', { spec: {} }))).code).toBe(404);
  });
});
