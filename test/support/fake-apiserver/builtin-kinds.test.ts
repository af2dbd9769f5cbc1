import { EventsV1Api, V1MicroTime } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './index.js';
import { type Clients, clientsFor, GROUP, NS, VERSION } from './test-fixtures.js';

let server: FakeApiServer;
let api: Clients;

beforeAll(async () => {
  server = await startFakeApiServer();
  api = clientsFor(server);
});
afterAll(() => server.close());

describe('built-in kinds', () => {
  it('converts Secret stringData into base64 data and defaults the type', async () => {
    const secret = await api.core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'creds' }, stringData: { password: 'hunter2' } },
    });
    expect(secret.type).toBe('Opaque');
    expect(secret.data).toEqual({ password: Buffer.from('hunter2').toString('base64') });
    expect(secret.stringData).toBeUndefined();
  });

  it('does not track generation for kinds whose strategy does not', async () => {
    const cm = await api.core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'nogen' } },
    });
    expect(cm.metadata?.generation).toBeUndefined();
  });

  it('accepts core/v1 and events.k8s.io/v1 events and requires the reporting fields of the latter', async () => {
    await api.core.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { name: 'ev1' },
        involvedObject: { kind: 'Widget', name: 'w', namespace: NS },
        reason: 'Testing',
        message: 'hello',
        type: 'Normal',
      },
    });
    const raw = await fetch(`${server.url}/apis/events.k8s.io/v1/namespaces/${NS}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: 'ev2' },
        type: 'Normal',
      }),
    });
    expect(raw.status).toBe(422);
    const status = (await raw.json()) as { details: { causes: Array<{ field: string }> } };
    expect(status.details.causes.map((c) => c.field)).toEqual(
      expect.arrayContaining(['eventTime', 'reportingController', 'reportingInstance', 'action', 'reason']),
    );
  });

  it('creates events.k8s.io/v1 events through EventsV1Api', async () => {
    const events = server.kubeConfig().makeApiClient(EventsV1Api);
    const created = await events.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { generateName: 'widget-' },
        eventTime: new V1MicroTime(),
        regarding: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Widget', name: 'w', namespace: NS },
        reason: 'Provisioned',
        action: 'Reconcile',
        note: 'all tables created',
        type: 'Normal',
        reportingController: 'example.test/controller',
        reportingInstance: 'controller-0',
      },
    });
    expect(created.metadata?.name).toMatch(/^widget-/);
    const listed = await events.listNamespacedEvent({ namespace: NS, fieldSelector: 'regarding.name=w' });
    expect(listed.items.map((e) => e.reason)).toEqual(['Provisioned']);
  });

  it('terminates a namespace by deleting its content', async () => {
    await api.core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await api.core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'c' } } });
    const ns = await api.core.deleteNamespace({ name: 'doomed' });
    expect(ns).toBeDefined();
    expect(server.get('v1', 'ConfigMap', 'doomed', 'c')).toBeUndefined();
    expect(server.get('v1', 'Namespace', undefined, 'doomed')).toBeUndefined();
  });
});
