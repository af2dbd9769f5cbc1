import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import type { ProcessingSource, QueueMetrics } from './metrics.js';
import { ExponentialFailureRateLimiter } from './rate-limiter.js';
import { WorkQueue } from './work-queue.js';

function aQueue(clock = new FakeClock()) {
  return { clock, queue: new WorkQueue<string>(clock, new ExponentialFailureRateLimiter(5, 1000)) };
}

class RecordingMetrics implements QueueMetrics {
  readonly queuedSeconds: number[] = [];
  readonly workedSeconds: number[] = [];
  source: ProcessingSource | undefined;
  depth(): void {}
  added(): void {}
  retried(): void {}
  queued(seconds: number): void {
    this.queuedSeconds.push(seconds);
  }
  worked(seconds: number): void {
    this.workedSeconds.push(seconds);
  }
  watch(source: ProcessingSource): void {
    this.source = source;
  }
}

function aMeasuredQueue() {
  const clock = new FakeClock();
  const metrics = new RecordingMetrics();
  const queue = new WorkQueue<string>(clock, new ExponentialFailureRateLimiter(5, 1000), metrics);
  return { clock, metrics, queue };
}

describe('WorkQueue', () => {
  it('hands keys out in the order they were added', async () => {
    const { queue } = aQueue();
    queue.add('a');
    queue.add('b');
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
  });

  it('dedupes a key added many times before it is taken', async () => {
    const { queue } = aQueue();
    queue.add('a');
    queue.add('a');
    queue.add('a');
    expect(queue.len()).toBe(1);
  });

  it('never hands out a key that is being processed', async () => {
    const { queue } = aQueue();
    queue.add('a');
    expect(await queue.get()).toBe('a');
    queue.add('a');
    expect(queue.len()).toBe(0);
    const controller = new AbortController();
    const next = queue.get(controller.signal);
    controller.abort();
    expect(await next).toBeUndefined();
  });

  it('re-queues a key once after done when it changed while being processed', async () => {
    const { queue } = aQueue();
    queue.add('a');
    await queue.get();
    queue.add('a');
    queue.add('a');
    queue.done('a');
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('a');
    queue.done('a');
    expect(queue.len()).toBe(0);
  });

  it('wakes a waiting get when a key is added', async () => {
    const { queue } = aQueue();
    const next = queue.get();
    queue.add('a');
    expect(await next).toBe('a');
    expect(queue.isProcessing('a')).toBe(true);
  });

  it('adds a key after its delay and keeps the earliest deadline', async () => {
    const { clock, queue } = aQueue();
    queue.addAfter('a', 1000);
    queue.addAfter('a', 300);
    queue.addAfter('a', 2000);
    await clock.advance(299);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.len()).toBe(1);
    await clock.advance(5000);
    expect(queue.len()).toBe(1);
  });

  it('backs a failing key off with growing intervals until it is forgotten', async () => {
    const { clock, queue } = aQueue();
    const intervals: number[] = [];
    queue.add('a');
    let last = clock.now();
    for (let i = 0; i < 6; i++) {
      const key = await queue.get();
      intervals.push(clock.now() - last);
      last = clock.now();
      queue.addRateLimited(key!);
      queue.done(key!);
      await clock.advance(queue.pendingDeadlines().get('a')! - clock.now());
    }
    expect(intervals).toEqual([0, 5, 10, 20, 40, 80]);
    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
  });

  it('releases waiting gets and drops delayed keys on shutdown', async () => {
    const { clock, queue } = aQueue();
    const next = queue.get();
    queue.addAfter('a', 10);
    queue.shutDown();
    expect(await next).toBeUndefined();
    await clock.advance(100);
    queue.add('b');
    expect(queue.len()).toBe(0);
  });

  describe('metrics', () => {
    it('observes how long a key waited from its add until a get took it', async () => {
      const { clock, metrics, queue } = aMeasuredQueue();
      queue.add('a');
      await clock.advance(250);
      queue.add('a');
      await clock.advance(50);
      expect(await queue.get()).toBe('a');
      const next = queue.get();
      queue.add('b');
      expect(await next).toBe('b');
      expect(metrics.queuedSeconds).toEqual([0.3, 0]);
    });

    it('counts a delayed key as waiting from when its delay elapsed', async () => {
      const { clock, metrics, queue } = aMeasuredQueue();
      queue.addAfter('a', 1000);
      await clock.advance(1000);
      await clock.advance(300);
      await queue.get();
      expect(metrics.queuedSeconds).toEqual([0.3]);
    });

    it('counts a key added while processing as waiting from that add, as client-go does', async () => {
      const { clock, metrics, queue } = aMeasuredQueue();
      queue.add('a');
      await queue.get();
      await clock.advance(100);
      queue.add('a');
      await clock.advance(200);
      queue.done('a');
      await clock.advance(50);
      await queue.get();
      expect(metrics.queuedSeconds).toEqual([0, 0.25]);
    });

    it('observes how long a key was processed from get to done, once', async () => {
      const { clock, metrics, queue } = aMeasuredQueue();
      queue.add('a');
      await queue.get();
      await clock.advance(400);
      queue.done('a');
      queue.done('a');
      queue.done('never-taken');
      expect(metrics.workedSeconds).toEqual([0.4]);
    });

    it('measures on the monotonic clock, so a wall-clock step does not skew durations', async () => {
      const { clock, metrics, queue } = aMeasuredQueue();
      queue.add('a');
      clock.stepWallClock(-60_000);
      await clock.advance(100);
      await queue.get();
      clock.stepWallClock(3_600_000);
      await clock.advance(200);
      expect(queue.processingTimes().longestSeconds).toBe(0.2);
      queue.done('a');
      expect(metrics.queuedSeconds).toEqual([0.1]);
      expect(metrics.workedSeconds).toEqual([0.2]);
    });

    it('reports unfinished and longest-running work of the keys in processing', async () => {
      const { clock, metrics, queue } = aMeasuredQueue();
      expect(metrics.source).toBe(queue);
      expect(queue.processingTimes()).toEqual({
        unfinishedSeconds: 0,
        longestSeconds: 0,
        longestKey: undefined,
      });
      queue.add('a');
      queue.add('b');
      await queue.get();
      await clock.advance(1000);
      await queue.get();
      await clock.advance(500);
      expect(queue.processingTimes()).toEqual({ unfinishedSeconds: 2, longestSeconds: 1.5, longestKey: 'a' });
      queue.done('a');
      expect(queue.processingTimes()).toEqual({
        unfinishedSeconds: 0.5,
        longestSeconds: 0.5,
        longestKey: 'b',
      });
      queue.done('b');
      expect(queue.processingTimes()).toEqual({
        unfinishedSeconds: 0,
        longestSeconds: 0,
        longestKey: undefined,
      });
    });
  });
});
