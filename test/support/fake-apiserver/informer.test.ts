import { type KubernetesListObject, makeInformer } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './index.js';
import {
  type Clients,
  clientsFor,
  eventually,
  GROUP,
  NS,
  VERSION,
  WIDGETS,
  type WidgetObject,
  widget,
  widgetCrd,
} from './test-fixtures.js';

let server: FakeApiServer;
let api: Clients;

beforeAll(async () => {
  server = await startFakeApiServer({ crds: [widgetCrd] });
  api = clientsFor(server);
});
afterAll(() => server.close());

function widgetInformer() {
  const listFn = () =>
    api.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: WIDGETS }) as Promise<
      KubernetesListObject<WidgetObject>
    >;
  const informer = makeInformer<WidgetObject>(
    api.kc,
    `/apis/${GROUP}/${VERSION}/${WIDGETS}?allowWatchBookmarks=true`,
    listFn,
  );
  const log: string[] = [];
  informer.on('add', (o) => log.push(`add ${o.metadata.name}`));
  informer.on('update', (o) => log.push(`update ${o.metadata.name}`));
  informer.on('delete', (o) => log.push(`delete ${o.metadata.name}`));
  informer.on('error', () => log.push('error'));
  return { informer, log };
}

describe('makeInformer against the fake', () => {
  it('sees adds, updates and deletes', async () => {
    server.create(widget('pre-existing'));
    const { informer, log } = widgetInformer();
    await informer.start();
    await eventually(() => expect(log).toEqual(['add pre-existing']));
    const created: WidgetObject = await api.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: WIDGETS,
      body: widget('live'),
    });
    server.update({ ...created, spec: { ...created.spec, size: 'large' } });
    server.delete(`${GROUP}/${VERSION}`, 'Widget', NS, 'live');
    await eventually(() =>
      expect(log).toEqual(['add pre-existing', 'add live', 'update live', 'delete live']),
    );
    expect(informer.list().map((o) => o.metadata.name)).toEqual(['pre-existing']);
    await informer.stop();
  });

  it('relists after a 410 and notices a deletion it missed while its watch was silent', async () => {
    server.create(widget('will-vanish'));
    const { informer, log } = widgetInformer();
    await informer.start();
    await eventually(() => expect(log).toContain('add will-vanish'));
    const listsBefore = server.requests.filter((r) => r.verb === 'list').length;

    server.faults.dropWatches();
    server.delete(`${GROUP}/${VERSION}`, 'Widget', NS, 'will-vanish');
    server.faults.compact();
    server.faults.closeWatches();

    await eventually(() => expect(log).toContain('delete will-vanish'));
    expect(server.requests.filter((r) => r.verb === 'list').length).toBe(listsBefore + 1);
    expect(informer.get('will-vanish', NS)).toBeUndefined();
    await informer.stop();
  });
});
