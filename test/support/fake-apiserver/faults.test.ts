import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './index.js';
import {
  apiFailure,
  type Clients,
  clientsFor,
  eventually,
  openWatch,
  widget,
  widgetCrd,
  widgetRef,
  widgetsPath,
} from './test-fixtures.js';

let server: FakeApiServer;
let api: Clients;

beforeAll(async () => {
  server = await startFakeApiServer({ crds: [widgetCrd], bookmarkIntervalMs: 20 });
  api = clientsFor(server);
  server.create(widget('target'));
});
afterEach(() => server.faults.reset());
afterAll(() => server.close());

const settled = async (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => 'settled'), new Promise((r) => setTimeout(() => r('pending'), ms))]);

describe('watch faults', () => {
  it('dropWatches leaves the connection open but silent, while new watches still work', async () => {
    const dropped = await openWatch(api.kc, widgetsPath, { allowWatchBookmarks: true });
    await eventually(() => expect(dropped.events.some((e) => e.type === 'BOOKMARK')).toBe(true));
    server.faults.dropWatches();
    const seen = dropped.events.length;
    server.create(widget('while-dropped'));
    expect(await settled(dropped.done, 200)).toBe('pending');
    expect(dropped.events).toHaveLength(seen);
    expect(server.openWatches).toBe(1);

    const fresh = await openWatch(api.kc, widgetsPath);
    await eventually(() =>
      expect(fresh.events.map((e) => e.object.metadata.name)).toContain('while-dropped'),
    );
    expect(server.openWatches).toBe(2);

    dropped.abort();
    fresh.abort();
    await eventually(() => expect(server.openWatches).toBe(0));
  });

  it('closeWatches ends open streams cleanly', async () => {
    const w = await openWatch(api.kc, widgetsPath);
    server.faults.closeWatches();
    expect(await w.done).toBeNull();
  });

  it('failNext on a watch answers the watch request itself with the error', async () => {
    server.faults.failNext(1, { status: 500, pathIncludes: 'watch=true' });
    const w = await openWatch(api.kc, widgetsPath);
    const err = (await w.done) as { statusCode?: number };
    expect(err.statusCode).toBe(500);
  });
});

describe('request faults', () => {
  it('failNext(1, 500) fails one matching request with InternalError, then lets requests through', async () => {
    server.faults.failNext(1, { status: 500, method: 'GET', pathIncludes: '/widgets/target' });
    const { code, status } = await apiFailure(api.custom.getNamespacedCustomObject(widgetRef('target')));
    expect(code).toBe(500);
    expect(status).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'InternalError', code: 500 });
    const ok = await api.custom.getNamespacedCustomObject(widgetRef('target'));
    expect(ok.metadata.name).toBe('target');
  });

  it('429 carries Retry-After and details.retryAfterSeconds', async () => {
    server.faults.failNext(2, { status: 429, retryAfterSeconds: 2 });
    for (let i = 0; i < 2; i++) {
      const { code, status, headers } = await apiFailure(
        api.custom.getNamespacedCustomObject(widgetRef('target')),
      );
      expect(code).toBe(429);
      expect(headers['retry-after']).toBe('2');
      expect(status).toMatchObject({ reason: 'TooManyRequests', details: { retryAfterSeconds: 2 } });
    }
    await api.custom.getNamespacedCustomObject(widgetRef('target'));
  });

  it('503 answers ServiceUnavailable', async () => {
    server.faults.failNext(1, { status: 503 });
    const { code, status } = await apiFailure(api.custom.getNamespacedCustomObject(widgetRef('target')));
    expect(code).toBe(503);
    expect(status.reason).toBe('ServiceUnavailable');
  });

  it('only matches the given method', async () => {
    server.faults.failNext(1, { status: 500, method: 'DELETE' });
    await api.custom.getNamespacedCustomObject(widgetRef('target'));
    // The pending failure is still there for the first DELETE, which fails before the 404 lookup.
    expect((await apiFailure(api.custom.deleteNamespacedCustomObject(widgetRef('absent')))).code).toBe(500);
    expect((await apiFailure(api.custom.deleteNamespacedCustomObject(widgetRef('absent')))).code).toBe(404);
  });

  it('delay adds latency to matching requests until cleared', async () => {
    server.faults.delay(250, { method: 'GET', pathIncludes: '/widgets/target' });
    let started = Date.now();
    await api.custom.getNamespacedCustomObject(widgetRef('target'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    server.faults.delay(0);
    started = Date.now();
    await api.custom.getNamespacedCustomObject(widgetRef('target'));
    expect(Date.now() - started).toBeLessThan(240);
  });
});
