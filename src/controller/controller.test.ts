import { describe, expect, it } from 'vitest';
import { setConditions } from '../api/conditions.js';
import { type CdmSinkProvision, FINALIZER } from '../api/types.js';
import { OperatorError } from '../errors/index.js';
import { Action } from '../reconcile/action.js';
import type { FinalizeOutcome, ReconcileDeps, ReconcileEvent, ReconcileOutcome } from '../reconcile/types.js';
import { FakeClock } from './clock.js';
import { ControllerLoop, onlyStatusChanged } from './controller.js';
import { EventRecorder } from './event-recorder.js';
import type { FinalizeFn, ReconcileFn } from './key-handler.js';
import { silentLogger } from './logger.js';
import { OwnWrites } from './own-writes.js';
import { createPrometheusMetrics } from './prometheus-metrics.js';
import { ExponentialFailureRateLimiter } from './rate-limiter.js';
import { InMemoryKube } from './testing/in-memory-kube.js';
import { aProvision } from './testing/provision-builder.js';

const KEY = 'data/jira';

function statusFor(provision: CdmSinkProvision, reason: string, ready: boolean, now: Date) {
  const generation = provision.metadata.generation ?? 1;
  const { conditions } = setConditions(
    provision.status?.conditions ?? [],
    [{ type: 'Ready', status: ready ? 'True' : 'False', reason, message: '' }],
    now,
    generation,
  );
  return { observedGeneration: generation, conditions };
}

function outcome(
  provision: CdmSinkProvision,
  now: Date,
  options: { error?: OperatorError; action?: Action; events?: ReconcileEvent[] } = {},
): ReconcileOutcome {
  const ready = !options.error;
  return {
    status: statusFor(provision, options.error?.reason ?? 'Provisioned', ready, now),
    action: options.action ?? Action.requeue(600_000),
    ready,
    statementsApplied: 0,
    events: options.events ?? [],
    ...(options.error ? { error: options.error } : {}),
  };
}

function harness(options: { reconcile?: ReconcileFn; finalize?: FinalizeFn; concurrency?: number } = {}) {
  const clock = new FakeClock();
  const kube = new InMemoryKube();
  const metrics = createPrometheusMetrics({ controller: 'cdmsinkprovision' });
  const reconciled: Array<{ at: number; provision: CdmSinkProvision }> = [];
  const finalized: CdmSinkProvision[] = [];
  const reconcileDeps: ReconcileDeps = {
    resolveDatabaseUrl: async () => 'postgres://unit:test@127.0.0.1:1/none',
    pools: {
      get: () => {
        throw new Error('unit tests do not reach a database');
      },
      end: async () => {},
    },
    now: () => new Date(clock.now()),
  };
  const reconcile: ReconcileFn = async (provision, deps, mode) => {
    reconciled.push({ at: clock.now(), provision });
    return options.reconcile ? options.reconcile(provision, deps, mode) : outcome(provision, deps.now());
  };
  const finalize: FinalizeFn = async (provision, deps) => {
    finalized.push(provision);
    return options.finalize
      ? options.finalize(provision, deps)
      : { done: true, status: provision.status ?? {}, action: Action.awaitChange(), events: [] };
  };
  const loop = new ControllerLoop({
    handler: {
      cache: kube.cache,
      provisions: kube.ports.provisions,
      events: new EventRecorder({
        client: kube.ports.events,
        component: 'cdm-sink-controller',
        instance: 'unit',
        clock,
        logger: silentLogger,
      }),
      ownWrites: new OwnWrites(),
      reconcile,
      finalize,
      reconcileDeps,
      metrics,
      logger: silentLogger,
    },
    clock,
    limiter: new ExponentialFailureRateLimiter(5, 1_000),
    metrics,
    logger: silentLogger,
    concurrency: options.concurrency ?? 4,
  });
  kube.listener = loop.listener;
  loop.startWorkers();
  const settle = () => clock.advance(0);
  return { clock, kube, loop, metrics, reconciled, finalized, settle };
}

const jira = () => aProvision('jira').inNamespace('data').build();

describe('ControllerLoop', () => {
  it('adds the finalizer before the first reconcile and writes Ready status with observedGeneration', async () => {
    const h = harness();
    h.kube.create(jira());
    await h.settle();
    expect(h.reconciled[0]?.provision.metadata.finalizers).toEqual([FINALIZER]);
    expect(h.kube.calls.indexOf('provisions.patch')).toBeLessThan(
      h.kube.calls.indexOf('provisions.patchStatus'),
    );
    const stored = h.kube.provisionStore.get(KEY)!;
    expect(stored.status?.observedGeneration).toBe(stored.metadata.generation);
    expect(stored.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  it('does not reconcile again for its own status write, and skips an unchanged status', async () => {
    const h = harness();
    h.kube.create(jira());
    await h.settle();
    const writes = h.kube.calls.filter((c) => c === 'provisions.patchStatus').length;
    const passes = h.reconciled.length;
    await h.clock.advance(600_000);
    expect(h.reconciled.length).toBe(passes + 1);
    expect(h.kube.calls.filter((c) => c === 'provisions.patchStatus').length).toBe(writes);
  });

  it('reconciles a spec change and lets observedGeneration follow', async () => {
    const h = harness();
    h.kube.create(jira());
    await h.settle();
    h.kube.updateSpec(KEY, (p) => {
      p.spec.models = ['cdm.work.project', 'cdm.work.item'];
    });
    await h.settle();
    const stored = h.kube.provisionStore.get(KEY)!;
    expect(stored.metadata.generation).toBe(2);
    expect(stored.status?.observedGeneration).toBe(2);
    expect(h.reconciled.at(-1)?.provision.spec.models).toContain('cdm.work.item');
  });

  it('backs off a retryable failure with growing intervals and resets after a success', async () => {
    let failing = true;
    const h = harness({
      reconcile: async (p, deps) =>
        failing
          ? outcome(p, deps.now(), {
              error: new OperatorError('ConnectionFailed', 'connection refused', true),
            })
          : outcome(p, deps.now()),
    });
    h.kube.create(jira());
    await h.settle();
    for (let i = 0; i < 6; i++)
      await h.clock.advance(h.loop.queue.pendingDeadlines().get(KEY)! - h.clock.now());
    const times = h.reconciled.map((r) => r.at);
    const intervals = times.slice(1).map((t, i) => t - times[i]!);
    expect(intervals).toEqual([5, 10, 20, 40, 80, 160]);
    expect(h.kube.provisionStore.get(KEY)?.status?.conditions?.[0]?.reason).toBe('ConnectionFailed');

    failing = false;
    await h.clock.advance(h.loop.queue.pendingDeadlines().get(KEY)! - h.clock.now());
    expect(h.loop.queue.numRequeues(KEY)).toBe(0);
    expect(h.kube.provisionStore.get(KEY)?.status?.conditions?.[0]?.reason).toBe('Provisioned');
  });

  it('does not requeue a non-retryable failure until the object changes', async () => {
    const h = harness({
      reconcile: async (p, deps) =>
        p.metadata.generation === 1
          ? outcome(p, deps.now(), {
              error: new OperatorError('InvalidSpec', 'spec.models[0]: unknown', false),
            })
          : outcome(p, deps.now()),
    });
    h.kube.create(jira());
    await h.settle();
    expect(h.loop.queue.pendingDeadlines().size).toBe(0);
    await h.clock.advance(3_600_000);
    expect(h.reconciled).toHaveLength(1);
    h.kube.updateSpec(KEY, (p) => {
      p.spec.models = ['cdm.work.item'];
    });
    await h.settle();
    expect(h.reconciled).toHaveLength(2);
  });

  it("requeues after the core's requested interval on success", async () => {
    const h = harness({
      reconcile: async (p, deps) => outcome(p, deps.now(), { action: Action.requeue(30_000) }),
    });
    h.kube.create(jira());
    await h.settle();
    expect(h.loop.queue.pendingDeadlines().get(KEY)).toBe(h.clock.now() + 30_000);
  });

  it('never reconciles one key twice at once and runs it once more when it changed meanwhile', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let release: () => void = () => {};
    const h = harness({
      reconcile: async (p, deps) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        inFlight--;
        return outcome(p, deps.now());
      },
    });
    h.kube.create(jira());
    await h.settle();
    for (let i = 0; i < 3; i++) {
      h.kube.updateSpec(KEY, (p) => {
        p.spec.catalog.labels = { edit: String(i) };
      });
    }
    await h.settle();
    expect(h.reconciled).toHaveLength(1);
    release();
    await h.settle();
    release();
    await h.settle();
    expect(maxInFlight).toBe(1);
    expect(h.reconciled).toHaveLength(2);
    expect(h.reconciled[1]?.provision.metadata.generation).toBe(4);
  });

  it('bounds how many keys are reconciled at once', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const releases: Array<() => void> = [];
    const h = harness({
      concurrency: 2,
      reconcile: async (p, deps) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise<void>((resolve) => releases.push(resolve));
        inFlight--;
        return outcome(p, deps.now());
      },
    });
    for (let i = 0; i < 5; i++) h.kube.create(aProvision(`p${i}`).build());
    await h.settle();
    expect(inFlight).toBe(2);
    while (releases.length > 0) {
      releases.shift()!();
      await h.settle();
    }
    expect(maxInFlight).toBe(2);
    expect(h.reconciled).toHaveLength(5);
  });

  it('finalizes a deleted provision and removes the finalizer so the object goes away', async () => {
    const h = harness();
    h.kube.create(jira());
    await h.settle();
    h.kube.delete(KEY);
    await h.settle();
    expect(h.finalized).toHaveLength(1);
    expect(h.kube.provisionStore.has(KEY)).toBe(false);
  });

  it('keeps the finalizer and reports why in status when cleanup fails', async () => {
    const error = new OperatorError('ConnectionFailed', 'connection refused', true);
    const h = harness({
      finalize: async (p, deps): Promise<FinalizeOutcome> => ({
        done: false,
        status: statusFor(p, 'ConnectionFailed', false, deps.now()),
        action: Action.requeue(1_000),
        events: [],
        error,
      }),
    });
    h.kube.create(jira());
    await h.settle();
    h.kube.delete(KEY);
    await h.settle();
    const stored = h.kube.provisionStore.get(KEY)!;
    expect(stored.metadata.finalizers).toEqual([FINALIZER]);
    expect(stored.status?.conditions?.[0]?.reason).toBe('ConnectionFailed');
    expect(h.loop.queue.pendingDeadlines().has(KEY)).toBe(true);
  });

  it('leaves a deleting object without our finalizer alone', async () => {
    const h = harness();
    h.kube.create(aProvision('jira').inNamespace('data').withFinalizers('other.io/keep').build());
    h.kube.delete(KEY);
    await h.settle();
    const before = h.reconciled.length;
    h.kube.updateSpec(KEY, (p) => {
      p.metadata.labels = { touched: 'yes' };
    });
    await h.settle();
    expect(h.reconciled.length).toBe(before);
    expect(h.finalized).toHaveLength(0);
    expect(h.kube.provisionStore.get(KEY)?.metadata.finalizers).toEqual(['other.io/keep']);
  });

  it('emits the core events and a Warning for an error the core did not describe', async () => {
    const h = harness({
      reconcile: async (p, deps) =>
        outcome(p, deps.now(), {
          error: new OperatorError('LockTimeout', 'lock timeout on cdm_work', true),
          events: [{ type: 'Normal', reason: 'Progressing', message: 'applying 3 statements' }],
        }),
    });
    h.kube.create(jira());
    await h.settle();
    expect(h.kube.createdEvents.map((e) => [e.type, e.reason])).toEqual([
      ['Normal', 'Progressing'],
      ['Warning', 'LockTimeout'],
    ]);
  });

  it('writes nothing for a reconcile that finishes after leadership was lost', async () => {
    let release: () => void = () => {};
    const h = harness({
      reconcile: async (p, deps) => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return outcome(p, deps.now());
      },
    });
    h.kube.create(jira());
    await h.settle();
    const stopping = h.loop.stopTaking();
    const interrupting = h.loop.interrupt(0);
    release();
    await h.settle();
    await Promise.all([stopping, interrupting]);
    expect(h.kube.calls).not.toContain('provisions.patchStatus');
    expect([...h.loop.queue.pendingDeadlines().keys()]).toEqual([KEY]);
  });

  it('publishes readiness per provision and drops the series when the provision is deleted', async () => {
    const h = harness();
    h.kube.create(jira());
    await h.settle();
    const ready = async () =>
      (await h.metrics.registry.getSingleMetric('cdm_sink_provision_ready')?.get())?.values;
    expect(await ready()).toEqual([{ labels: { namespace: 'data', name: 'jira' }, value: 1 }]);
    h.kube.delete(KEY);
    await h.settle();
    expect(await ready()).toEqual([]);
    const text = await h.metrics.registry.metrics();
    expect(text).toMatch(
      /controller_runtime_reconcile_total\{controller="cdmsinkprovision",result="success"\} [1-9]/,
    );
    expect(text).toMatch(/cdm_sink_reconcile_reason_total\{reason="Provisioned"\} [1-9]/);
  });
});

describe('onlyStatusChanged', () => {
  it('is true for a status write and false for spec, finalizer or deletion changes', () => {
    const base = aProvision().build();
    const withStatus = { ...base, status: { observedGeneration: 1 } };
    expect(onlyStatusChanged(base, withStatus)).toBe(true);
    expect(onlyStatusChanged(base, { ...base, metadata: { ...base.metadata, generation: 2 } })).toBe(false);
    expect(onlyStatusChanged(base, aProvision().withFinalizers(FINALIZER).build())).toBe(false);
    expect(onlyStatusChanged(base, aProvision().deleting().build())).toBe(false);
  });
});
