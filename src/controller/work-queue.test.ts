import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { ExponentialFailureRateLimiter } from './rate-limiter.js';
import { WorkQueue } from './work-queue.js';

function aQueue(clock = new FakeClock()) {
  return { clock, queue: new WorkQueue<string>(clock, new ExponentialFailureRateLimiter(5, 1000)) };
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
});
