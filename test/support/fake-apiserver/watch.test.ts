import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './index.js';
import {
  type Clients,
  clientsFor,
  eventually,
  GROUP,
  openWatch,
  VERSION,
  WIDGETS,
  type WidgetObject,
  widget,
  widgetCrd,
} from './test-fixtures.js';

let server: FakeApiServer;
let api: Clients;
const AV = `${GROUP}/${VERSION}`;

beforeAll(async () => {
  server = await startFakeApiServer({ crds: [widgetCrd], bookmarkIntervalMs: 50 });
  api = clientsFor(server);
});
afterAll(() => server.close());

const pathIn = (ns: string) => `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${WIDGETS}`;
const seed = (ns: string, name: string, labels?: Record<string, string>) =>
  server.create({ ...widget(name), metadata: { name, namespace: ns, labels } }) as WidgetObject;
const summary = (events: Array<{ type: string; object: WidgetObject }>) =>
  events.map((e) => `${e.type} ${e.object.metadata?.name ?? ''}`);

describe('watch', () => {
  it('starts with synthetic ADDED events for current state when no resourceVersion is given', async () => {
    seed('w-initial', 'a');
    seed('w-initial', 'b');
    const w = await openWatch(api.kc, pathIn('w-initial'));
    await eventually(() => expect(summary(w.events)).toEqual(['ADDED a', 'ADDED b']));
    seed('w-initial', 'c');
    await eventually(() => expect(summary(w.events)).toEqual(['ADDED a', 'ADDED b', 'ADDED c']));
    w.abort();
  });

  it('replays history after the given resourceVersion, then follows live writes', async () => {
    const a = seed('w-replay', 'a');
    const b = seed('w-replay', 'b');
    server.update({ ...a, spec: { ...a.spec, size: 'large' } });
    server.delete(AV, 'Widget', 'w-replay', 'b');
    const w = await openWatch(api.kc, pathIn('w-replay'), { resourceVersion: a.metadata.resourceVersion });
    await eventually(() => expect(summary(w.events)).toEqual(['ADDED b', 'MODIFIED a', 'DELETED b']));
    const deleted = w.events[2]?.object as WidgetObject;
    expect(Number(deleted.metadata.resourceVersion)).toBeGreaterThan(Number(b.metadata.resourceVersion));
    seed('w-replay', 'c');
    await eventually(() => expect(summary(w.events)).toContain('ADDED c'));
    w.abort();
  });

  it('sends an in-stream 410 Expired and closes when the resourceVersion was compacted away', async () => {
    const old = seed('w-compact', 'a').metadata.resourceVersion;
    seed('w-compact', 'b');
    server.faults.compact();
    const w = await openWatch(api.kc, pathIn('w-compact'), { resourceVersion: old });
    expect(await w.done).toBeNull();
    expect(w.events).toHaveLength(1);
    expect(w.events[0]?.type).toBe('ERROR');
    expect(w.events[0]?.object).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      code: 410,
      reason: 'Expired',
      message: expect.stringMatching(new RegExp(`^too old resource version: ${old} \\(\\d+\\)$`)),
    });
  });

  it('expires resourceVersions that fell out of the per-type history window', async () => {
    const small = await startFakeApiServer({ crds: [widgetCrd], historyLimit: 3 });
    try {
      const first = small.create(widget('h0')).metadata?.resourceVersion;
      for (let i = 1; i <= 4; i++) small.create(widget(`h${i}`));
      const kc = small.kubeConfig();
      const expired = await openWatch(kc, pathIn('default'), { resourceVersion: first });
      await expired.done;
      expect(expired.events.map((e) => e.type)).toEqual(['ERROR']);
      // The last three events are still inside the window.
      const recent = small.list(AV, 'Widget', 'default').find((o) => o.metadata?.name === 'h1');
      const ok = await openWatch(kc, pathIn('default'), {
        resourceVersion: recent?.metadata?.resourceVersion,
      });
      await eventually(() =>
        expect(ok.events.map((e) => e.object.metadata.name)).toEqual(['h2', 'h3', 'h4']),
      );
      ok.abort();
    } finally {
      await small.close();
    }
  });

  it('sends periodic bookmarks carrying only kind, apiVersion and resourceVersion', async () => {
    const rv = seed('w-bookmark', 'a').metadata.resourceVersion;
    const w = await openWatch(api.kc, pathIn('w-bookmark'), {
      resourceVersion: rv,
      allowWatchBookmarks: true,
    });
    await eventually(() =>
      expect(w.events.filter((e) => e.type === 'BOOKMARK').length).toBeGreaterThanOrEqual(2),
    );
    const bookmark = w.events.find((e) => e.type === 'BOOKMARK');
    expect(bookmark?.object).toEqual({
      kind: 'Widget',
      apiVersion: AV,
      metadata: { resourceVersion: expect.stringMatching(/^\d+$/) },
    });
    w.abort();
  });

  it('does not send bookmarks unless asked to', async () => {
    const rv = seed('w-nobookmark', 'a').metadata.resourceVersion;
    const w = await openWatch(api.kc, pathIn('w-nobookmark'), { resourceVersion: rv });
    const bookmarked = await openWatch(api.kc, pathIn('w-nobookmark'), {
      resourceVersion: rv,
      allowWatchBookmarks: true,
    });
    await eventually(() => expect(bookmarked.events.length).toBeGreaterThanOrEqual(2));
    expect(w.events).toEqual([]);
    w.abort();
    bookmarked.abort();
  });

  it('closes the stream when timeoutSeconds elapses', async () => {
    const started = Date.now();
    const w = await openWatch(api.kc, pathIn('w-timeout'), { timeoutSeconds: 1 });
    expect(await w.done).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('applies selectors to events, turning selector transitions into ADDED and DELETED', async () => {
    const a = seed('w-select', 'a', { app: 'x' });
    const rv = a.metadata.resourceVersion;
    const w = await openWatch(api.kc, pathIn('w-select'), { resourceVersion: rv, labelSelector: 'app=x' });
    seed('w-select', 'ignored', { app: 'y' });
    const relabelled = server.update({
      ...a,
      metadata: { ...a.metadata, labels: { app: 'y' } },
    }) as WidgetObject;
    server.update({ ...relabelled, metadata: { ...relabelled.metadata, labels: { app: 'x' } } });
    await eventually(() => expect(summary(w.events)).toEqual(['DELETED a', 'ADDED a']));
    const byName = await openWatch(api.kc, pathIn('w-select'), {
      resourceVersion: rv,
      fieldSelector: 'metadata.name=ignored',
    });
    await eventually(() => expect(summary(byName.events)).toEqual(['ADDED ignored']));
    w.abort();
    byName.abort();
  });

  it('accepts watch=1 and ends the initial events with an annotated bookmark for sendInitialEvents', async () => {
    seed('w-initial-events', 'a');
    const query = 'watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true';
    const controller = new AbortController();
    const res = await fetch(`${server.url}${pathIn('w-initial-events')}?${query}`, {
      signal: controller.signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (text.split('\n').length < 3) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'a' } } });
    expect(lines[1]).toMatchObject({
      type: 'BOOKMARK',
      object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } },
    });
  });
});
