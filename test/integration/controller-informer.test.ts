import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningController } from '../../src/controller/start-controller.js';
import { aSinkProvision, ControllerEnv, eventually, NAMESPACE } from './controller-env.js';

/**
 * The informer must survive what real API servers and networks do to watches; after each fault a
 * new CR must still be reconciled, which only happens if the watch (or a relist) is alive again.
 */
describe('informer resilience', () => {
  let env: ControllerEnv;
  let controller: RunningController;
  let n = 0;
  const createAndAwait = async () => {
    const name = `after-fault-${++n}`;
    env.secret(`${name}-sink`, env.db.url);
    env.createProvision(aSinkProvision(name, { schema: `cdm_fault_${n}` }));
    await env.waitReady(name);
  };

  beforeAll(async () => {
    // No bookmarks: an idle watch then looks exactly like a dead one, so only the watchdog can help.
    env = await ControllerEnv.create({ bookmarkIntervalMs: 60_000 });
    controller = await env.start('solo');
    await controller.waitForSync();
    await createAndAwait();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('restarts a watch that went silent (half-open connection)', async () => {
    const restarts = controller.informerRestarts();
    env.api.faults.dropWatches();
    await eventually('a watchdog restart', () => controller.informerRestarts() > restarts);
    await createAndAwait();
  });

  it('relists after 410 Gone when its resourceVersion was compacted away', async () => {
    // The watch goes quiet, a CR is created behind its back, and the history it would resume from is gone.
    env.api.faults.dropWatches();
    const hidden = `after-fault-${++n}`;
    env.secret(`${hidden}-sink`, env.db.url);
    env.createProvision(aSinkProvision(hidden, { schema: `cdm_fault_${n}` }));
    const mark = env.api.requests.length;
    env.api.faults.compact();
    env.api.faults.closeWatches();
    await env.waitReady(hidden);
    const informerCalls = env.api.requests
      .slice(mark)
      .filter((r) => r.resource === 'cdmsinkprovisions' && (r.verb === 'watch' || r.verb === 'list'))
      .map((r) => r.verb);
    expect(informerCalls.slice(0, 2)).toEqual(['watch', 'list']);
    await createAndAwait();
  });

  it('keeps retrying with backoff through 500s on list and watch', async () => {
    const restarts = controller.informerRestarts();
    env.api.faults.failNext(4, { status: 500, pathIncludes: 'cdmsinkprovisions', method: 'GET' });
    env.api.faults.closeWatches();
    await eventually('restarts after the errors', () => controller.informerRestarts() >= restarts + 2);
    await createAndAwait();
  });

  it('notices a deletion that happened while the watch was down', async () => {
    await createAndAwait();
    const name = `after-fault-${n}`;
    const ready = async () =>
      (await controller.metrics.registry.getSingleMetric('cdm_sink_provision_ready')?.get())?.values.some(
        (v) => v.labels.name === name,
      );
    // The gauge follows the status write, so give it the moment it needs.
    await eventually('the readiness series', ready);
    env.api.faults.dropWatches();
    const stored = env.provision(name)!;
    env.updateProvision({ ...stored, metadata: { ...stored.metadata, finalizers: [] } });
    env.api.delete('cdm.nucleus.io/v1alpha1', 'CdmSinkProvision', stored.metadata.namespace, name);
    await eventually('the readiness series dropped', async () => !(await ready()));
  });
});

describe('watching chosen namespaces', () => {
  let env: ControllerEnv;
  afterAll(async () => {
    await env?.close();
  });

  it('reconciles provisions in the watched namespace and leaves the others alone', async () => {
    env = await ControllerEnv.create();
    await env.start('scoped', { namespaces: [NAMESPACE] });
    const outside = { ...aSinkProvision('outside', { schema: 'cdm_outside' }) };
    outside.metadata = { ...outside.metadata, namespace: 'elsewhere' };
    env.secret('outside-sink', env.db.url, 'elsewhere');
    env.createProvision(outside);
    env.secret('inside-sink', env.db.url);
    env.createProvision(aSinkProvision('inside', { schema: 'cdm_inside' }));
    await env.waitReady('inside');
    const untouched = env.provision('outside', 'elsewhere');
    expect(untouched?.metadata.finalizers).toBeUndefined();
    expect(untouched?.status).toBeUndefined();
    expect(env.api.requests.some((r) => r.namespace === 'elsewhere')).toBe(false);
  });
});
