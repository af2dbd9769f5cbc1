import type { CoreV1Event } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { CdmSinkProvision } from '../api/types.js';
import type { ReconcileEvent } from '../reconcile/types.js';
import { FakeClock, flushAsync } from './clock.js';
import { EventRecorder, type EventRecorderOptions } from './event-recorder.js';
import type { EventClient } from './kube-ports.js';
import { LeadershipFence } from './leadership-fence.js';
import { silentLogger } from './logger.js';
import { InMemoryKube } from './testing/in-memory-kube.js';
import { aProvision } from './testing/provision-builder.js';

function recorder(
  kube: InMemoryKube,
  clock = new FakeClock(),
  overrides: Partial<EventRecorderOptions> = {},
): EventRecorder {
  return new EventRecorder({
    client: kube.ports.events,
    component: 'cdm-sink-controller',
    instance: 'pod-a',
    clock,
    logger: silentLogger,
    ...overrides,
  });
}

/** A client whose creates never settle, as behind a partitioned API server. */
function hungClient(): EventClient & { creates: number } {
  const client = {
    creates: 0,
    create: (): Promise<CoreV1Event> => {
      client.creates++;
      return new Promise<CoreV1Event>(() => {});
    },
    patch: (): Promise<CoreV1Event> => new Promise<CoreV1Event>(() => {}),
  };
  return client;
}

/** Wraps the in-memory client so creates wait until `release()`. */
function gatedClient(kube: InMemoryKube): { client: EventClient; release(): void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    client: {
      create: async (namespace, event) => {
        await gate;
        return kube.ports.events.create(namespace, event);
      },
      patch: async (namespace, name, body) => {
        await gate;
        return kube.ports.events.patch(namespace, name, body);
      },
    },
    release: () => open(),
  };
}

const writes = (kube: InMemoryKube) => kube.calls.filter((c) => c.startsWith('events.')).length;

const failure: ReconcileEvent = {
  type: 'Warning',
  reason: 'ConnectionFailed',
  message: 'connection refused',
};

describe('EventRecorder', () => {
  it('creates a core/v1 Event about the provision', async () => {
    const kube = new InMemoryKube();
    const provision = kube.create(aProvision('jira').inNamespace('data').build());
    const events = recorder(kube);
    events.record(provision, {
      type: 'Normal',
      reason: 'Provisioned',
      message: 'created 2 tables',
    });
    await events.flush(1_000);
    expect(kube.createdEvents[0]).toMatchObject({
      metadata: { namespace: 'data' },
      involvedObject: {
        kind: 'CdmSinkProvision',
        name: 'jira',
        namespace: 'data',
        uid: provision.metadata.uid,
      },
      type: 'Normal',
      reason: 'Provisioned',
      message: 'created 2 tables',
      source: { component: 'cdm-sink-controller' },
      reportingComponent: 'cdm-sink-controller',
      reportingInstance: 'pod-a',
      count: 1,
    });
  });

  it('aggregates a repeat into the same Event by bumping count and lastTimestamp', async () => {
    const kube = new InMemoryKube();
    const clock = new FakeClock();
    const events = recorder(kube, clock);
    const provision = kube.create(aProvision('jira').build());
    events.record(provision, failure);
    await events.flush(1_000);
    await clock.advance(60_000);
    events.record(provision, failure);
    events.record(provision, failure);
    await events.flush(1_000);
    expect(kube.createdEvents).toHaveLength(1);
    expect(kube.createdEvents[0]?.count).toBe(3);
    expect(kube.eventPatches.at(-1)?.body).toEqual({
      count: 3,
      lastTimestamp: new Date(clock.now()).toISOString(),
    });
  });

  it('sends a series in order, one write at a time: create, then count 2, then count 3', async () => {
    const kube = new InMemoryKube();
    const events = recorder(kube);
    const provision = kube.create(aProvision('jira').build());
    events.record(provision, failure);
    events.record(provision, failure);
    events.record(provision, failure);
    await events.flush(1_000);
    expect(kube.calls.filter((c) => c.startsWith('events.'))).toEqual([
      'events.create',
      'events.patch',
      'events.patch',
    ]);
    expect(kube.eventPatches.map((p) => (p.body as { count: number }).count)).toEqual([2, 3]);
    expect(kube.createdEvents).toHaveLength(1);
  });

  it('starts a new Event when the aggregated one has expired', async () => {
    const kube = new InMemoryKube();
    const events = recorder(kube);
    const provision = kube.create(aProvision('jira').build());
    const event = { type: 'Normal', reason: 'Provisioned', message: 'ok' } as const;
    events.record(provision, event);
    await events.flush(1_000);
    kube.createdEvents.length = 0;
    events.record(provision, event);
    await events.flush(1_000);
    expect(kube.createdEvents).toHaveLength(1);
  });

  it('masks a connection URL password in the message and caps its length', async () => {
    const kube = new InMemoryKube();
    const provision = kube.create(aProvision('jira').build());
    const events = recorder(kube);
    events.record(provision, {
      type: 'Warning',
      reason: 'AuthenticationFailed',
      message: 'login failed for postgres://app:S3cr3t-Pa55-xyz@db:5432/cdm',
    });
    events.record(provision, { type: 'Warning', reason: 'Long', message: 'x'.repeat(5_000) });
    await events.flush(1_000);
    expect(kube.createdEvents[0]?.message).toBe('login failed for postgres://app:***@db:5432/cdm');
    expect(kube.createdEvents[1]?.message).toHaveLength(1024);
  });

  it('keeps sending after a failed write', async () => {
    const kube = new InMemoryKube();
    let failNext = true;
    const client: EventClient = {
      create: async (namespace, event) => {
        if (failNext) {
          failNext = false;
          throw new Error('boom');
        }
        return kube.ports.events.create(namespace, event);
      },
      patch: (namespace, name, body) => kube.ports.events.patch(namespace, name, body),
    };
    const events = recorder(kube, new FakeClock(), { client });
    const provision = kube.create(aProvision('jira').build());
    events.record(provision, failure);
    events.record(provision, { type: 'Normal', reason: 'Provisioned', message: 'ok' });
    await events.flush(1_000);
    expect(kube.createdEvents.map((e) => e.reason)).toEqual(['Provisioned']);
  });

  describe('spam filter (client-go EventSourceObjectSpamFilter)', () => {
    it('lets a burst of 25 through per object, then one more per 300 s', async () => {
      const kube = new InMemoryKube();
      const clock = new FakeClock();
      const events = recorder(kube, clock);
      const provision = kube.create(aProvision('jira').build());
      for (let i = 0; i < 40; i++) events.record(provision, failure);
      await events.flush(1_000);
      expect(writes(kube)).toBe(25);
      expect(kube.createdEvents[0]?.count).toBe(25);

      for (let i = 0; i < 5; i++) events.record(provision, failure);
      await events.flush(1_000);
      expect(writes(kube)).toBe(25);

      await clock.advance(300_000);
      events.record(provision, failure);
      events.record(provision, failure);
      await events.flush(1_000);
      expect(writes(kube)).toBe(26);
      expect(kube.createdEvents[0]?.count).toBe(26);
    });

    it('keys the bucket on the involved object, not on reason or message', async () => {
      const kube = new InMemoryKube();
      const events = recorder(kube);
      const jira = kube.create(aProvision('jira').build());
      const github = kube.create(aProvision('github').build());
      for (let i = 0; i < 30; i++) {
        events.record(jira, { type: 'Warning', reason: `Reason${i}`, message: `message ${i}` });
      }
      for (let i = 0; i < 25; i++) events.record(github, failure);
      await events.flush(1_000);
      const about = (name: string) => kube.createdEvents.filter((e) => e.involvedObject.name === name);
      expect(about('jira')).toHaveLength(25);
      expect(about('github')).toHaveLength(1);
      expect(about('github')[0]?.count).toBe(25);
    });

    it('takes burst and refill interval as options', async () => {
      const kube = new InMemoryKube();
      const clock = new FakeClock();
      const events = recorder(kube, clock, { spamBurst: 2, spamRefillMs: 10_000 });
      const provision = kube.create(aProvision('jira').build());
      for (let i = 0; i < 5; i++) events.record(provision, failure);
      await events.flush(1_000);
      expect(writes(kube)).toBe(2);
      await clock.advance(10_000);
      for (let i = 0; i < 5; i++) events.record(provision, failure);
      await events.flush(1_000);
      expect(writes(kube)).toBe(3);
    });

    it('bounds the bucket map like the aggregation cache (an evicted object starts a full bucket)', async () => {
      const kube = new InMemoryKube();
      const events = recorder(kube, new FakeClock(), { spamBurst: 1, maxEntries: 2 });
      const [a, b, c] = ['a', 'b', 'c'].map((n) => kube.create(aProvision(n).build())) as [
        CdmSinkProvision,
        CdmSinkProvision,
        CdmSinkProvision,
      ];
      events.record(a, failure);
      events.record(a, failure);
      await events.flush(1_000);
      expect(writes(kube)).toBe(1);
      events.record(b, failure);
      events.record(c, failure);
      events.record(a, failure);
      await events.flush(1_000);
      expect(kube.createdEvents.map((e) => e.involvedObject.name)).toEqual(['a', 'b', 'c', 'a']);
    });
  });

  describe('asynchronous sending', () => {
    it('never blocks the caller on a hung API call; flush gives up at its deadline', async () => {
      const kube = new InMemoryKube();
      const clock = new FakeClock();
      const client = hungClient();
      const events = recorder(kube, clock, { client });
      const provision = kube.create(aProvision('jira').build());
      const result: unknown = events.record(provision, failure);
      expect(result).toBeUndefined();
      events.record(provision, { type: 'Normal', reason: 'Provisioned', message: 'ok' });
      await flushAsync();
      expect(client.creates).toBe(1);

      let flushed = false;
      const flushing = events.flush(100).then(() => {
        flushed = true;
      });
      await clock.advance(99);
      expect(flushed).toBe(false);
      await clock.advance(1);
      await flushing;
      expect(flushed).toBe(true);
      expect(events.pending()).toBe(2);
    });

    it('flush resolves at once when nothing is pending, and leaves no timer behind', async () => {
      const kube = new InMemoryKube();
      const clock = new FakeClock();
      const events = recorder(kube, clock);
      await events.flush(100);
      const provision = kube.create(aProvision('jira').build());
      events.record(provision, failure);
      await events.flush(100);
      expect(writes(kube)).toBe(1);
      expect(events.pending()).toBe(0);
      expect(clock.pendingDelays()).toEqual([]);
    });

    it('bounds the queue at 1000 and drops the overflow without throwing', async () => {
      const kube = new InMemoryKube();
      const client = hungClient();
      const events = recorder(kube, new FakeClock(), { client });
      expect(() => {
        for (let i = 0; i < 1_500; i++) {
          const provision = aProvision(`p${i}`).build();
          provision.metadata.uid = `uid-${i}`;
          events.record(provision, failure);
        }
      }).not.toThrow();
      expect(events.pending()).toBe(1_000);
      await flushAsync();
      expect(client.creates).toBe(1);
      expect(events.pending()).toBeLessThanOrEqual(1_000);
    });

    it('takes the queue bound as an option', () => {
      const kube = new InMemoryKube();
      const events = recorder(kube, new FakeClock(), { client: hungClient(), maxQueued: 3 });
      for (let i = 0; i < 10; i++) {
        events.record(aProvision(`p${i}`).build(), failure);
      }
      expect(events.pending()).toBe(3);
    });
  });

  describe('fencing', () => {
    it('drops an event whose fence aborts before it is sent, and sends those with a live fence', async () => {
      const kube = new InMemoryKube();
      const gated = gatedClient(kube);
      const events = recorder(kube, new FakeClock(), { client: gated.client });
      const provision = kube.create(aProvision('jira').build());
      const lost = new LeadershipFence();
      const held = new LeadershipFence();

      events.record(provision, { type: 'Normal', reason: 'First', message: 'in flight' }, held);
      await flushAsync();
      events.record(provision, { type: 'Warning', reason: 'Fenced', message: 'stale leader' }, lost);
      events.record(provision, { type: 'Normal', reason: 'Live', message: 'still leader' }, held);
      events.record(provision, { type: 'Normal', reason: 'Unfenced', message: 'no signal' });
      lost.revoke();
      gated.release();
      await events.flush(1_000);

      expect(kube.createdEvents.map((e) => e.reason)).toEqual(['First', 'Live', 'Unfenced']);
    });

    it('ignores an event recorded with an already revoked fence, without spending a token', async () => {
      const kube = new InMemoryKube();
      const events = recorder(kube, new FakeClock(), { spamBurst: 1 });
      const provision = kube.create(aProvision('jira').build());
      const revoked = new LeadershipFence();
      revoked.revoke();
      events.record(provision, failure, revoked);
      expect(events.pending()).toBe(0);
      events.record(provision, failure);
      await events.flush(1_000);
      expect(writes(kube)).toBe(1);
    });
  });

  describe('close', () => {
    it('sends what is queued, then ignores later records', async () => {
      const kube = new InMemoryKube();
      const events = recorder(kube);
      const provision = kube.create(aProvision('jira').build());
      events.record(provision, failure);
      await events.close(1_000);
      expect(writes(kube)).toBe(1);
      events.record(provision, { type: 'Normal', reason: 'Late', message: 'after close' });
      expect(events.pending()).toBe(0);
      await events.flush(1_000);
      expect(writes(kube)).toBe(1);
    });

    it('resolves at its deadline with a hung client and drops what is left', async () => {
      const kube = new InMemoryKube();
      const clock = new FakeClock();
      const client = hungClient();
      const events = recorder(kube, clock, { client });
      for (let i = 0; i < 3; i++) events.record(aProvision(`p${i}`).build(), failure);

      let closed = false;
      const closing = events.close(500).then(() => {
        closed = true;
      });
      await clock.advance(499);
      expect(closed).toBe(false);
      await clock.advance(1);
      await closing;
      expect(closed).toBe(true);
      await flushAsync();
      expect(client.creates).toBe(1);
      expect(events.pending()).toBeLessThanOrEqual(1);
    });
  });
});
