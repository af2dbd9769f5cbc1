import { describe, expect, it } from 'vitest';
import { type Clock, FakeClock } from './clock.js';
import { LeaderElector } from './leader-election.js';
import { silentLogger } from './logger.js';
import { InMemoryKube } from './testing/in-memory-kube.js';

const TIMINGS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function candidate(kube: InMemoryKube, clock: Clock, identity: string) {
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

/** A FakeClock whose timers, once `loseTimers()` is called, never fire: a stuck elector or a busy event loop. */
function timerLosingClock() {
  const clock = new FakeClock();
  let timersWork = true;
  const losing: Clock = {
    now: () => clock.now(),
    monotonic: () => clock.monotonic(),
    setTimer: (ms, fn) => clock.setTimer(ms, () => timersWork && fn()),
  };
  return {
    clock,
    losing,
    loseTimers: () => {
      timersWork = false;
    },
  };
}

/** `a` leads; `b` starts campaigning `afterMs` later. */
async function leaderAndStandby(afterMs: number) {
  const kube = new InMemoryKube();
  const clock = new FakeClock();
  const a = candidate(kube, clock, 'a');
  const b = candidate(kube, clock, 'b');
  a.elector.start();
  await clock.advance(0);
  b.elector.start();
  await clock.advance(afterMs);
  return { kube, clock, a, b };
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
    const { kube, clock, a, b } = await leaderAndStandby(4_000);
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
    const { kube, clock, a, b } = await leaderAndStandby(1_000);
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

  it('bounds every attempt by the renew deadline: a hung lease call neither freezes the elector nor stop()', async () => {
    const kube = new InMemoryKube();
    const clock = new FakeClock();
    const a = candidate(kube, clock, 'a');
    a.elector.start();
    await clock.advance(0);
    // The API server holds every lease call (and the client ignores the abort, as a half-open connection would).
    let holding = true;
    kube.leaseGate = () => (holding ? new Promise<void>(() => {}) : Promise.resolve());
    await clock.advance(TIMINGS.renewDeadlineMs + 1_000);
    expect(a.elector.isLeader()).toBe(false);
    holding = false;
    const callsBefore = kube.calls.length;
    await clock.advance(TIMINGS.renewDeadlineMs + 2 * TIMINGS.retryPeriodMs);
    expect(kube.calls.length).toBeGreaterThan(callsBefore);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.elector.healthy()).toBe(true);

    holding = true;
    await clock.advance(TIMINGS.retryPeriodMs);
    let stopped = false;
    const stopping = a.elector.stop({ release: true }).then(() => {
      stopped = true;
    });
    await clock.advance(TIMINGS.renewDeadlineMs);
    expect(stopped).toBe(true);
    await stopping;
  });

  it('passes each lease call a signal that aborts when its attempt runs out of time', async () => {
    const kube = new InMemoryKube();
    const clock = new FakeClock();
    const a = candidate(kube, clock, 'a');
    const signals: AbortSignal[] = [];
    kube.leaseGate = (_op, signal) => {
      if (signal) signals.push(signal);
      return new Promise<void>(() => {});
    };
    a.elector.start();
    await clock.advance(0);
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(false);
    await clock.advance(TIMINGS.renewDeadlineMs);
    expect(signals[0]?.aborted).toBe(true);
  });

  it('reports itself unhealthy when it stops making progress', async () => {
    const kube = new InMemoryKube();
    // Every timer is lost after the first attempt: the elector can no longer make progress.
    const { clock, losing, loseTimers } = timerLosingClock();
    const { elector } = candidate(kube, losing, 'a');
    elector.start();
    await clock.advance(0);
    expect(elector.healthy()).toBe(true);
    loseTimers();
    await clock.advance(TIMINGS.leaseDurationMs);
    expect(elector.healthy()).toBe(true);
    await clock.advance(TIMINGS.renewDeadlineMs + 3 * TIMINGS.retryPeriodMs);
    expect(elector.healthy()).toBe(false);
  });

  it('stops holding the lease renewDeadline after the renewal was sent, even when its timers run late', async () => {
    const kube = new InMemoryKube();
    // A busy event loop: no timer fires after the first renewal.
    const { clock, losing: late, loseTimers } = timerLosingClock();
    // The first attempt's answer takes 4 s; the lease counts from when it was sent.
    let slow = 1;
    kube.leaseGate = () =>
      slow-- > 0 ? new Promise<void>((resolve) => clock.setTimer(4_000, resolve)) : Promise.resolve();
    const { elector } = candidate(kube, late, 'a');
    elector.start();
    await clock.advance(4_000);
    expect(elector.holdsLease()).toBe(true);
    loseTimers();
    await clock.advance(TIMINGS.renewDeadlineMs - 4_000 - 1);
    expect(elector.holdsLease()).toBe(true);
    await clock.advance(1);
    expect(elector.isLeader()).toBe(true);
    expect(elector.holdsLease()).toBe(false);
  });

  it('times its observation of the lease from the response, so a slow GET does not eat the margin', async () => {
    const kube = new InMemoryKube();
    const clock = new FakeClock();
    const other = candidate(kube, clock, 'other');
    other.elector.start();
    await clock.advance(0);
    await other.elector.stop({ release: false });
    const b = candidate(kube, clock, 'b');
    let slowGets = 1;
    kube.leaseGate = async (op) => {
      if (op === 'get' && slowGets-- > 0)
        await new Promise<void>((resolve) => clock.setTimer(5_000, resolve));
    };
    const startedAt = clock.now();
    b.elector.start();
    await clock.advance(40_000);
    const tookOverAt = Number(b.log[0]?.split('@')[1]) - startedAt;
    // The GET answered 5 s after it was sent: the lease may have been renewed just before that.
    expect(tookOverAt).toBeGreaterThanOrEqual(5_000 + TIMINGS.leaseDurationMs);
  });

  it('measures lease expiry on a monotonic clock: a wall-clock step does not hand the lease over early', async () => {
    const { clock, a, b } = await leaderAndStandby(4_000);
    await a.elector.stop({ release: false });
    const crashedAt = clock.now();
    clock.stepWallClock(3_600_000);
    await clock.advance(TIMINGS.leaseDurationMs - TIMINGS.retryPeriodMs);
    expect(b.elector.isLeader()).toBe(false);
    await clock.advance(2 * TIMINGS.retryPeriodMs + 1_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(Number(b.log[0]?.split('@')[1]) - crashedAt).toBeGreaterThanOrEqual(
      3_600_000 + TIMINGS.leaseDurationMs - TIMINGS.retryPeriodMs,
    );
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
