import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReconcileFn } from '../../src/controller/key-handler.js';
import type { RunningController } from '../../src/controller/start-controller.js';
import { reconcile } from '../../src/reconcile/index.js';
import { aSinkProvision, ControllerEnv, eventually, LEASE } from './controller-env.js';

/**
 * One writer per provision at every moment: a replica that stops leading (shutdown, a lost or hung
 * lease) writes nothing more, and a hung lease call never freezes leader election or shutdown.
 */
const TIMINGS = { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 250 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A reconcile that, for the provisions named, waits until the test lets it go. */
function gated(names: readonly string[]) {
  const waiting = new Map<string, () => void>();
  const entered = new Set<string>();
  const fn: ReconcileFn = async (provision, deps, options) => {
    const name = provision.metadata.name;
    if (names.includes(name) && !entered.has(name)) {
      entered.add(name);
      await new Promise<void>((resolve) => waiting.set(name, resolve));
    }
    return reconcile(provision, deps, options);
  };
  return {
    fn,
    entered: (name: string) => entered.has(name),
    open: (name: string) => waiting.get(name)?.(),
  };
}

describe('leadership fences every write', () => {
  let env: ControllerEnv;
  beforeAll(async () => {
    env = await ControllerEnv.create();
  });
  afterAll(async () => {
    await env?.close();
  });

  const elect = (leaseName: string) => ({ leaderElection: { ...LEASE, leaseName, ...TIMINGS } });
  const provision = (name: string) => {
    env.secret(`${name}-sink`, env.db.url);
    env.createProvision(aSinkProvision(name, { schema: `cdm_${name.replace(/-/g, '_')}` }));
  };
  /** Who wrote to the provision (main resource or status), in the order the API server took the writes. */
  const writers = (name: string) =>
    env.api.requests
      .filter((r) => r.resource === 'cdmsinkprovisions' && r.name === name && r.verb === 'patch')
      .filter((r) => r.status >= 200 && r.status < 300)
      .map((r) => r.user);
  const leaseRequests = (leaseName: string) =>
    env.api.requests.filter((r) => r.resource === 'leases' && r.name === leaseName);
  const healthz = async (c: RunningController) =>
    (await fetch(`http://127.0.0.1:${c.healthPort}/healthz`)).status;

  it('keeps campaigning through lease calls the API server holds, and stops in bounded time', async () => {
    const a = await env.start('hold-a', elect('hold'));
    await eventually('hold-a leads', () => a.isLeader());
    // Every lease call that arrives in the next second is held for two minutes.
    env.api.faults.delay(120_000, { pathIncludes: '/leases/hold' });
    await sleep(1_000);
    env.api.faults.delay(0);
    await eventually('hold-a steps down', () => !a.isLeader(), 5_000);
    const mark = leaseRequests('hold').length;
    await eventually('hold-a leads again', () => a.isLeader(), TIMINGS.renewDeadlineMs + 3_000);
    expect(leaseRequests('hold').length).toBeGreaterThan(mark);
    expect(await healthz(a)).toBe(200);

    env.api.faults.delay(120_000, { pathIncludes: '/leases/hold' });
    const stopping = performance.now();
    await a.stop();
    env.api.faults.delay(0);
    expect(performance.now() - stopping).toBeLessThan(TIMINGS.renewDeadlineMs + 3_000);
  }, 30_000);

  it('revokes leadership before it releases the lease: the old leader never writes after the new one', async () => {
    const gate = gated(['order-slow']);
    const a = await env.start('order-a', {
      ...elect('order'),
      reconcile: gate.fn,
      shutdownTimeoutMs: 10_000,
    });
    await eventually('order-a leads', () => a.isLeader());
    const b = await env.start('order-b', elect('order'));
    await b.waitForSync();
    provision('order-slow');
    await eventually('order-a reconciling order-slow', () => gate.entered('order-slow'));

    const stopping = performance.now();
    await a.stop();
    expect(performance.now() - stopping).toBeLessThan(10_000 + 1_000);
    await env.waitReady('order-slow');
    expect(writers('order-slow')).toContain('order-b');
    // The old reconcile finishes only now; it must not write over the new leader's status.
    gate.open('order-slow');
    await sleep(500);
    const sequence = writers('order-slow');
    expect(sequence.slice(sequence.indexOf('order-b'))).not.toContain('order-a');
    await b.stop();
  }, 30_000);

  it('interrupts reconciles in flight when the lease is lost while a shutdown drains them', async () => {
    const gate = gated(['drain-stuck']);
    const a = await env.start('drain-a', {
      ...elect('drain'),
      reconcile: gate.fn,
      shutdownTimeoutMs: 20_000,
    });
    await eventually('drain-a leads', () => a.isLeader());
    provision('drain-stuck');
    await eventually('drain-a reconciling drain-stuck', () => gate.entered('drain-stuck'));
    const patchesBefore = writers('drain-stuck').length;

    const stopping = a.stop();
    await sleep(100);
    env.api.faults.failNext(1_000, { status: 503, pathIncludes: '/leases/drain' });
    await eventually('drain-a steps down', () => !a.isLeader(), 5_000);
    gate.open('drain-stuck');
    await stopping;
    env.api.faults.reset();
    expect(writers('drain-stuck').length).toBe(patchesBefore);
  }, 30_000);

  it('fails /healthz once the process is marked failed', async () => {
    const a = await env.start('failed-a', elect('failed'));
    await eventually('failed-a leads', () => a.isLeader());
    expect(await healthz(a)).toBe(200);
    a.markFailed();
    expect(await healthz(a)).toBe(503);
    await a.stop();
  });

  it('exports per-provision readiness only while leading', async () => {
    const a = await env.start('series-a', elect('series'));
    await eventually('series-a leads', () => a.isLeader());
    provision('series-one');
    await env.waitReady('series-one');
    const series = async () =>
      (await a.metrics.registry.getSingleMetric('cdm_sink_provision_ready')?.get())?.values ?? [];
    await eventually('series-one reported Ready', async () =>
      (await series()).some((s) => s.labels.name === 'series-one' && s.value === 1),
    );
    env.api.faults.failNext(1_000, { status: 503, pathIncludes: '/leases/series' });
    await eventually('series-a steps down', () => !a.isLeader(), 5_000);
    expect(await series()).toEqual([]);
    env.api.faults.reset();
    await a.stop();
  }, 30_000);

  it('treats a status write that finds the provision gone as the end of it, not as a failure', async () => {
    const gate = gated(['gone-midway']);
    const a = await env.start('gone-a', { reconcile: gate.fn });
    await a.waitForSync();
    provision('gone-midway');
    await eventually('gone-a reconciling gone-midway', () => gate.entered('gone-midway'));
    // Someone strips the finalizer and deletes the object while the reconcile runs.
    const current = env.provision('gone-midway');
    if (!current) throw new Error('gone-midway missing');
    env.updateProvision({ ...current, metadata: { ...current.metadata, finalizers: [] } });
    env.api.delete('cdm.nucleus.io/v1alpha1', 'CdmSinkProvision', 'data-platform', 'gone-midway');
    const reconcileErrors = async () =>
      (await a.metrics.registry.getSingleMetric('controller_runtime_reconcile_errors_total')?.get())
        ?.values[0]?.value;
    const errorsBefore = await reconcileErrors();
    const logMark = env.logLines.length;
    gate.open('gone-midway');
    await eventually('the status write answered', () =>
      env.api.requests.some(
        (r) => r.name === 'gone-midway' && r.subresource === 'status' && r.status === 404,
      ),
    );
    await sleep(300);
    expect(await reconcileErrors()).toBe(errorsBefore);
    const failures = env.logLines
      .slice(logMark)
      .filter((line) => line.includes('gone-midway') && /"level":"(warn|error|fatal)"/.test(line));
    expect(failures).toEqual([]);
    await a.stop();
  }, 30_000);
});
