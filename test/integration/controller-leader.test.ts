import type { V1Lease } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReconcileFn } from '../../src/controller/key-handler.js';
import type { RunningController } from '../../src/controller/start-controller.js';
import { reconcile } from '../../src/reconcile/index.js';
import { aSinkProvision, ControllerEnv, eventually, LEASE } from './controller-env.js';

const TIMINGS = { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 250 };

interface Run {
  readonly identity: string;
  readonly start: number;
  end?: number;
}

describe('leader election between two replicas', () => {
  let env: ControllerEnv;
  const runs: Run[] = [];
  const counting =
    (identity: string): ReconcileFn =>
    async (provision, deps, options) => {
      const run: Run = { identity, start: performance.now() };
      runs.push(run);
      try {
        return await reconcile(provision, deps, options);
      } finally {
        run.end = performance.now();
      }
    };
  const start = (identity: string) =>
    env.start(identity, { reconcile: counting(identity), leaderElection: { ...LEASE, ...TIMINGS } });
  const lease = () =>
    env.api.get('coordination.k8s.io/v1', 'Lease', LEASE.leaseNamespace, LEASE.leaseName) as V1Lease;
  const runsOf = (identity: string) => runs.filter((r) => r.identity === identity);
  const create = async (name: string) => {
    env.secret(`${name}-sink`, env.db.url);
    env.createProvision(aSinkProvision(name, { schema: `cdm_${name.replace(/-/g, '_')}` }));
    await env.waitReady(name);
  };

  let a: RunningController;
  let b: RunningController;
  beforeAll(async () => {
    env = await ControllerEnv.create();
    a = await start('replica-a');
    await eventually('replica-a leads', () => a.isLeader());
    b = await start('replica-b');
    await b.waitForSync();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('lets exactly one replica lead and only the leader reconciles', async () => {
    for (const name of ['le-one', 'le-two', 'le-three']) await create(name);
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    expect(lease().spec?.holderIdentity).toBe('replica-a');
    expect(runsOf('replica-a').length).toBeGreaterThanOrEqual(3);
    expect(runsOf('replica-b')).toEqual([]);
    expect(b.handled()).toBe(0);
    const readyz = await fetch(`http://127.0.0.1:${b.healthPort}/readyz`);
    expect(readyz.status).toBe(200);
  });

  it('fails over to the standby within the lease duration after the leader dies without releasing', async () => {
    await a.stop({ release: false });
    const stoppedAt = performance.now();
    await eventually('replica-b leads', () => b.isLeader(), TIMINGS.leaseDurationMs + 3_000);
    await create('le-after-failover');
    expect(lease().spec).toMatchObject({ holderIdentity: 'replica-b' });
    expect(lease().spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
    const lastOfA = Math.max(...runsOf('replica-a').map((r) => r.end ?? Number.POSITIVE_INFINITY));
    const firstOfB = Math.min(...runsOf('replica-b').map((r) => r.start));
    expect(lastOfA).toBeLessThanOrEqual(stoppedAt);
    expect(lastOfA).toBeLessThan(firstOfB);
  });

  let c: RunningController;
  it('hands the lease over at once on a clean shutdown', async () => {
    c = await start('replica-c');
    await c.waitForSync();
    expect(c.isLeader()).toBe(false);
    await b.stop({ release: true });
    await eventually('replica-c leads', () => c.isLeader());
    expect(lease().spec?.holderIdentity).toBe('replica-c');
    await create('le-after-release');
    const lastOfB = Math.max(...runsOf('replica-b').map((r) => r.end ?? Number.POSITIVE_INFINITY));
    expect(lastOfB).toBeLessThan(Math.min(...runsOf('replica-c').map((r) => r.start)));
  });

  it('steps down when it cannot renew, and picks up the queued work once it leads again', async () => {
    env.api.faults.failNext(1_000, { status: 503, pathIncludes: '/leases' });
    await eventually('replica-c to step down', () => !c.isLeader(), TIMINGS.renewDeadlineMs + 3_000);
    const master = await c.metrics.registry.getSingleMetric('leader_election_master_status')?.get();
    expect(master?.values[0]?.value).toBe(0);
    const handled = c.handled();
    env.secret('le-while-leaderless-sink', env.db.url);
    env.createProvision(aSinkProvision('le-while-leaderless', { schema: 'cdm_le_while_leaderless' }));
    env.api.faults.reset();
    await eventually('replica-c to lead again', () => c.isLeader(), TIMINGS.leaseDurationMs + 3_000);
    await env.waitReady('le-while-leaderless');
    expect(c.handled()).toBeGreaterThan(handled);
  });
});
