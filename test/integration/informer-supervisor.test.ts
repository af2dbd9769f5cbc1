import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CdmSinkProvision } from '../../src/api/types.js';
import { realClock } from '../../src/controller/clock.js';
import {
  InformerSupervisor,
  type InformerSupervisorOptions,
  objectKey,
} from '../../src/controller/informer-supervisor.js';
import { provisionLister, provisionWatchPath } from '../../src/controller/kube-clients.js';
import { createLogger } from '../../src/controller/logger.js';
import { type FakeApiServer, startFakeApiServer } from '../support/fake-apiserver/index.js';
import { aSinkProvision, CRD_PATH, eventually, NAMESPACE } from './controller-env.js';

interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly delayMs?: number;
  readonly err?: { readonly message?: string };
}

/** One supervisor against the fake API server, with what it told its listener and its log. */
class Harness {
  readonly kubeConfig: KubeConfig;
  readonly logs: LogLine[] = [];
  readonly added: string[] = [];
  readonly deleted: string[] = [];
  /** Informer names, one per `watchRestarted` the supervisor reported to its metrics. */
  readonly restartMetrics: string[] = [];
  readonly supervisor: InformerSupervisor<CdmSinkProvision>;

  constructor(
    readonly api: FakeApiServer,
    options: Partial<InformerSupervisorOptions<CdmSinkProvision>> = {},
  ) {
    this.kubeConfig = api.kubeConfig();
    const destination = new Writable({
      write: (chunk, _encoding, done) => {
        for (const line of String(chunk).split('\n').filter(Boolean)) this.logs.push(JSON.parse(line));
        done();
      },
    });
    this.supervisor = new InformerSupervisor<CdmSinkProvision>({
      name: NAMESPACE,
      kubeConfig: this.kubeConfig,
      path: provisionWatchPath(NAMESPACE),
      list: provisionLister(this.kubeConfig, NAMESPACE),
      listener: {
        added: (obj) => this.added.push(objectKey(obj)),
        updated: () => {},
        deleted: (obj) => this.deleted.push(objectKey(obj)),
        resync: () => {},
      },
      clock: realClock,
      logger: createLogger({ level: 'debug', destination }),
      metrics: { watchRestarted: (informer) => this.restartMetrics.push(informer) },
      watchTimeoutSeconds: 300,
      ...options,
    });
  }

  restartLogs(): LogLine[] {
    return this.logs.filter((l) => l.msg === 'watch stopped; restarting');
  }

  /** Requests this supervisor made for provisions since `mark`, as `verb` or `verb@resourceVersion`. */
  calls(mark = 0): string[] {
    return this.api.requests
      .slice(mark)
      .filter((r) => r.resource === 'cdmsinkprovisions' && (r.verb === 'list' || r.verb === 'watch'))
      .map((r) => (r.verb === 'watch' ? `watch@${r.query.resourceVersion ?? ''}` : r.verb));
  }
}

const key = (name: string) => `${NAMESPACE}/${name}`;

/** The most watches the fake API server held open at once, sampled until `stop()`. */
function peakOpenWatches(api: FakeApiServer): { readonly peak: () => number; readonly stop: () => void } {
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, api.openWatches);
  }, 10);
  return { peak: () => peak, stop: () => clearInterval(sampler) };
}

function createProvision(api: FakeApiServer, name: string): void {
  const provision = aSinkProvision(name, { schema: `cdm_${name.replaceAll('-', '_')}` });
  api.create(provision as unknown as KubernetesObject);
}

describe('InformerSupervisor', () => {
  let api: FakeApiServer;
  let harness: Harness | undefined;

  beforeEach(async () => {
    // Frequent bookmarks keep a healthy watch visibly alive for the watchdog.
    api = await startFakeApiServer({ crds: [CRD_PATH], bookmarkIntervalMs: 200 });
    createProvision(api, 'seed');
  });
  afterEach(async () => {
    await harness?.supervisor.stop();
    harness = undefined;
    await api.close();
  });

  it('never opens the watch of a generation stopped or restarted while its LIST was pending', async () => {
    // The fault matcher cannot tell a LIST and a WATCH apart, so watches wait too; only LISTs matter
    // here, as no generation gets past its LIST before the watchdog restarts it.
    api.faults.delay(2_500, { method: 'GET', pathIncludes: 'cdmsinkprovisions' });
    harness = new Harness(api, { watchdogMs: 1_000, restartBaseMs: 50, restartCapMs: 500 });
    const watches = peakOpenWatches(api);
    try {
      harness.supervisor.start();
      await sleep(10_000);
      const restarts = harness.supervisor.restartCount();
      expect(restarts).toBeGreaterThanOrEqual(5);
      await harness.supervisor.stop();
      // Longer than a delayed LIST plus a delayed WATCH: whatever was still pending has had its chance.
      await sleep(5_500);
      expect(api.openWatches).toBe(0);
      expect(watches.peak()).toBeLessThanOrEqual(1);
      expect(harness.supervisor.restartCount()).toBe(restarts);
      expect(harness.supervisor.hasSynced()).toBe(false);
    } finally {
      watches.stop();
    }
  }, 30_000);

  it('recovers with exactly one watch once LISTs are fast again after restarts during pending LISTs', async () => {
    api.faults.delay(2_500, { method: 'GET', pathIncludes: 'cdmsinkprovisions' });
    harness = new Harness(api, { watchdogMs: 1_000, restartBaseMs: 50, restartCapMs: 500 });
    const watches = peakOpenWatches(api);
    try {
      harness.supervisor.start();
      await eventually('two watchdog restarts', () => harness?.supervisor.restartCount() === 2);
      api.faults.delay(0);
      await harness.supervisor.waitForSync();
      // Long enough for any abandoned generation's delayed LIST and WATCH to have landed.
      await sleep(5_500);
      expect(api.openWatches).toBe(1);
      expect(watches.peak()).toBe(1);
      createProvision(api, 'after-recovery');
      await eventually('the new object', () => harness?.supervisor.get(key('after-recovery')));
    } finally {
      watches.stop();
    }
  }, 30_000);

  it('closes the silent watch when the watchdog replaces it', async () => {
    harness = new Harness(api, { watchdogMs: 1_000, restartBaseMs: 50, restartCapMs: 500 });
    const { supervisor } = harness;
    supervisor.start();
    await supervisor.waitForSync();
    await eventually('the watch', () => api.openWatches === 1);
    const watches = peakOpenWatches(api);
    try {
      api.faults.dropWatches();
      await eventually('a watchdog restart', () => supervisor.restartCount() === 1);
      createProvision(api, 'after-watchdog');
      await eventually('the new object', () => supervisor.get(key('after-watchdog')));
      // The relist may bring the object before the new watch is open.
      await eventually('the new watch', () => api.openWatches === 1);
      expect(watches.peak()).toBe(1);
    } finally {
      watches.stop();
    }
  });

  it('closes its open watch on stop() and tells the listener nothing afterwards', async () => {
    harness = new Harness(api);
    harness.supervisor.start();
    await harness.supervisor.waitForSync();
    await eventually('the watch', () => api.openWatches === 1);
    await harness.supervisor.stop();
    createProvision(api, 'after-stop');
    await eventually('the watch closed', () => api.openWatches === 0);
    await sleep(300);
    expect(harness.added).toEqual([key('seed')]);
    expect(harness.supervisor.get(key('after-stop'))).toBeUndefined();
  });

  it('turns a failing credential refresh on re-watch into restarts with backoff, not a crash', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      harness = new Harness(api, { restartBaseMs: 200, restartCapMs: 5_000, watchdogMs: 60_000 });
      const { supervisor, kubeConfig } = harness;
      supervisor.start();
      await supervisor.waitForSync();
      await eventually('the watch', () => api.openWatches === 1);

      const refresh = vi
        .spyOn(kubeConfig, 'applyToFetchOptions')
        .mockRejectedValue(new Error('token refresh failed'));
      api.faults.closeWatches();
      await eventually('a re-watch', () => refresh.mock.calls.length > 0);
      await sleep(50);
      expect(unhandled).toEqual([]);
      await eventually('three restarts', () => harness?.restartLogs().length === 3, 10_000);
      const restarts = harness.restartLogs();
      expect(restarts.map((l) => l.err?.message)).toEqual(Array(3).fill('token refresh failed'));
      expect(restarts.map((l) => l.level)).toEqual(['warn', 'warn', 'warn']);
      // The watch had been healthy, so backoff starts over; then it doubles while nothing recovers.
      expect(restarts.map((l) => l.delayMs)).toEqual([200, 400, 800]);
      expect(supervisor.restartCount()).toBe(3);
      expect(harness.restartMetrics).toEqual([NAMESPACE, NAMESPACE, NAMESPACE]);
      expect(unhandled).toEqual([]);

      refresh.mockRestore();
      const mark = api.requests.length;
      createProvision(api, 'after-refresh');
      await eventually('the new object', () => supervisor.get(key('after-refresh')), 10_000);
      await eventually('a live watch', () => api.openWatches === 1);
      expect(harness.calls(mark)[0]).toBe('list');
      expect(supervisor.hasSynced()).toBe(true);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('resumes from the last resourceVersion when the server ends the watch, without relisting', async () => {
    harness = new Harness(api);
    const { supervisor } = harness;
    supervisor.start();
    await supervisor.waitForSync();
    createProvision(api, 'watched');
    await eventually('the watched object', () => supervisor.get(key('watched')));
    const mark = api.requests.length;
    api.faults.closeWatches();
    createProvision(api, 'while-closed');
    await eventually('the object created meanwhile', () => supervisor.get(key('while-closed')));
    const calls = harness.calls(mark);
    expect(calls[0]).toMatch(/^watch@\d+$/);
    expect(calls).not.toContain('list');
    expect(supervisor.restartCount()).toBe(0);
  });

  it('relists on 410 Gone and reports what was deleted meanwhile, without a restart', async () => {
    harness = new Harness(api);
    const { supervisor } = harness;
    supervisor.start();
    await supervisor.waitForSync();
    await eventually('the watch', () => api.openWatches === 1);
    api.faults.dropWatches();
    api.delete('cdm.nucleus.io/v1alpha1', 'CdmSinkProvision', NAMESPACE, 'seed');
    api.faults.compact();
    const mark = api.requests.length;
    api.faults.closeWatches();
    await eventually('the deletion', () => harness?.deleted.includes(key('seed')));
    expect(supervisor.get(key('seed'))).toBeUndefined();
    expect(harness.calls(mark).slice(0, 2)).toEqual([expect.stringMatching(/^watch@\d+$/), 'list']);
    const expired = harness.logs.filter((l) => l.msg === 'watch expired (410 Gone); re-listing');
    expect(expired.map((l) => l.level)).toEqual(['info']);
    expect(supervisor.restartCount()).toBe(0);
  });

  it('backs off when every watch ends the moment it opens, instead of reopening it in a tight loop', async () => {
    // Something between us and the API server (a proxy, a server shutting down) answers each watch
    // with an empty 200; LISTs work.
    let watches = 0;
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      res.writeHead(200, { 'content-type': 'application/json' });
      if (url.searchParams.get('watch') === 'true') {
        watches++;
        res.end();
        return;
      }
      res.end(
        JSON.stringify({ kind: 'CdmSinkProvisionList', metadata: { resourceVersion: '7' }, items: [] }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromOptions({
        clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
        users: [{ name: 'u', token: 't' }],
        contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
        currentContext: 'c',
      });
      harness = new Harness(api, {
        kubeConfig,
        list: provisionLister(kubeConfig, NAMESPACE),
        restartBaseMs: 100,
        restartCapMs: 1_000,
      });
      harness.supervisor.start();
      await harness.supervisor.waitForSync();
      await sleep(2_000);
      await harness.supervisor.stop();
      // With backoff from 100 ms: about five restarts in two seconds; without it, thousands of watches.
      expect(watches).toBeLessThan(10);
      expect(
        harness.logs.some((l) => l.msg === 'watch ended as soon as it opened; waiting before reopening it'),
      ).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
