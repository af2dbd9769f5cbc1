import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './index.js';
import {
  type Clients,
  clientsFor,
  eventually,
  GROUP,
  NS,
  openWatch,
  VERSION,
  WIDGETS,
  widget,
  widgetCrd,
  widgetsPath,
} from './test-fixtures.js';

let server: FakeApiServer;
let api: Clients;

beforeAll(async () => {
  server = await startFakeApiServer({ crds: [widgetCrd] });
  api = clientsFor(server);
});
afterAll(() => server.close());

describe('scale', () => {
  it('holds 1,000 custom resources and a few Secrets with many concurrent watches', async () => {
    const watches = await Promise.all(Array.from({ length: 20 }, () => openWatch(api.kc, widgetsPath)));
    const count = 1000;
    // Seeding directly keeps the test about the fake's capacity rather than client-node's per-request cost.
    for (let i = 0; i < count; i++) server.create(widget(`w-${String(i).padStart(4, '0')}`));
    for (let i = 0; i < 5; i++) {
      await api.core.createNamespacedSecret({
        namespace: NS,
        body: { metadata: { name: `s-${i}` }, stringData: { k: 'v' } },
      });
    }
    await eventually(() => {
      for (const w of watches) expect(w.events).toHaveLength(count);
    }, 10_000);
    const page = await api.custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: WIDGETS,
      limit: 500,
    });
    expect(page.items).toHaveLength(500);
    expect(page.metadata.remainingItemCount).toBe(500);
    const rest = await api.custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: WIDGETS,
      limit: 500,
      _continue: page.metadata.continue,
    });
    expect(rest.items.at(-1).metadata.name).toBe('w-0999');
    for (const w of watches) w.abort();
    await eventually(() => expect(server.openWatches).toBe(0));
  });
});
