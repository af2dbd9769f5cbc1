import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { LeaderElector } from './leader-election.js';
import { silentLogger } from './logger.js';
import { InMemoryKube } from './testing/in-memory-kube.js';

const TIMINGS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function candidate(kube: InMemoryKube, clock: FakeClock, identity: string) {
  const log: string[] = [];
  const elector = new LeaderElector({
    leases: kube.ports.leases,
    namespace: 'cdm-sink-system',
    name: 'cdm-sink-controller',
    identity,
    ...TIMINGS,
    clock,
    logger: silentLogger,
    random: () => 0,
    onStartedLeading: () => log.push(`started@${clock.now()}`),
    onStoppedLeading: () => log.push(`stopped@${clock.now()}`),
  });
  return { elector, log };
}

const lease = (kube: InMemoryKube) => kube.leaseStore.get('cdm-sink-system/cdm-sink-controller')?.spec;

describe('LeaderElector', () => {
  it('creates the lease and leads when nobody holds it', async () => {
    const kube = new InMemoryKube();
    const clock = new FakeClock();
    const a = candidate(kube, clock, 'a');
    a.elector.start();
    await clock.advance(0);
    expect(a.elector.isLeader()).toBe(true);
    expect(lease(kube)).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
  });

  it('lets exactly one of two candidates lead while the leader renews', async () => {
    const kube = new InMemoryKube();
    const clock = new FakeClock();
    const a = candidate(kube, clock, 'a');
    const b = candidate(kube, clock, 'b');
    a.elector.start();
    b.elector.start();
    await clock.advance(60_000);
    expect([a.elector.isLeader(), b.elector.isLeader()]).toEqual([true, false]);
    expect(lease(kube)?.holderIdentity).toBe('a');
  });

  it('takes over a crashed leader only after the lease duration, counting the transition', async () => {
    const kube = new InMemoryKube();
    const clock = new FakeClock();
    const a = candidate(kube, clock, 'a');
    const b = candidate(kube, clock, 'b');
    a.elector.start();
    await clock.advance(0);
    b.elector.start();
    await clock.advance(4_000);
    const crashedAt = clock.now();
    await a.elector.stop({ release: false });
    await clock.advance(14_000);
    expect(b.elector.isLeader()).toBe(false);
    await clock.advance(4_000);
    expect(b.elector.isLeader()).toBe(true);
    const tookOverAfter = Number(b.log[0]?.split('@')[1]) - crashedAt;
    expect(tookOverAfter).toBeGreaterThanOrEqual(TIMINGS.leaseDurationMs - TIMINGS.retryPeriodMs);
    expect(tookOverAfter).toBeLessThanOrEqual(TIMINGS.leaseDurationMs + TIMINGS.retryPeriodMs);
    expect(lease(kube)).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('releases the lease on a clean stop so the next candidate need not wait', async () => {
    const kube = new InMemoryKube();
    const clock = new FakeClock();
    const a = candidate(kube, clock, 'a');
    const b = candidate(kube, clock, 'b');
    a.elector.start();
    await clock.advance(0);
    b.elector.start();
    await clock.advance(1_000);
    await a.elector.stop({ release: true });
    expect(lease(kube)).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    await clock.advance(TIMINGS.retryPeriodMs);
    expect(b.elector.isLeader()).toBe(true);
  });

  it('steps down when renewals keep failing past the renew deadline, before the lease expires', async () => {
    const kube = new InMemoryKube();
    const clock = new FakeClock();
    const a = candidate(kube, clock, 'a');
    a.elector.start();
    await clock.advance(0);
    const lastRenewal = clock.now();
    kube.failLeaseCalls = 1_000;
    await clock.advance(12_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.log).toEqual([`started@${lastRenewal}`, `stopped@${lastRenewal + TIMINGS.renewDeadlineMs}`]);
  });

  it('regains leadership once the API server answers again and nobody else took the lease', async () => {
    const kube = new InMemoryKube();
    const clock = new FakeClock();
    const a = candidate(kube, clock, 'a');
    a.elector.start();
    await clock.advance(0);
    kube.failLeaseCalls = 14;
    await clock.advance(30_000);
    expect(a.log.map((l) => l.split('@')[0])).toEqual(['started', 'stopped', 'started']);
    expect(lease(kube)?.leaseTransitions).toBe(0);
  });

  it('refuses timings where the leader could outlive its lease', () => {
    const kube = new InMemoryKube();
    const base = {
      leases: kube.ports.leases,
      namespace: 'n',
      name: 'l',
      identity: 'a',
      clock: new FakeClock(),
    };
    const callbacks = { logger: silentLogger, onStartedLeading() {}, onStoppedLeading() {} };
    expect(
      () => new LeaderElector({ ...base, ...callbacks, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }),
    ).toThrow(/leaseDuration must be greater/);
    expect(
      () => new LeaderElector({ ...base, ...callbacks, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }),
    ).toThrow(/renewDeadline must be greater/);
  });
});
