import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
} from './rate-limiter.js';

describe('ExponentialFailureRateLimiter', () => {
  it('doubles the delay per failure up to the cap and counts requeues', () => {
    const limiter = new ExponentialFailureRateLimiter<string>(5, 40);
    expect([1, 2, 3, 4, 5].map(() => limiter.when('a'))).toEqual([5, 10, 20, 40, 40]);
    expect(limiter.numRequeues('a')).toBe(5);
  });

  it('keeps each key on its own schedule', () => {
    const limiter = new ExponentialFailureRateLimiter<string>(5, 1000);
    limiter.when('a');
    limiter.when('a');
    expect(limiter.when('b')).toBe(5);
    expect(limiter.when('a')).toBe(20);
  });

  it('starts over after forget', () => {
    const limiter = new ExponentialFailureRateLimiter<string>(5, 1000);
    limiter.when('a');
    limiter.when('a');
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
  });

  it('returns the cap instead of overflowing after very many failures', () => {
    const limiter = new ExponentialFailureRateLimiter<string>(5, 1_000_000);
    let last = 0;
    for (let i = 0; i < 2000; i++) last = limiter.when('a');
    expect(last).toBe(1_000_000);
  });
});

describe('BucketRateLimiter', () => {
  it('lets a burst through at once and then spaces retries at the configured rate', () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter<string>(10, 2, clock);
    expect([limiter.when('a'), limiter.when('b'), limiter.when('c'), limiter.when('d')]).toEqual([
      0, 0, 100, 200,
    ]);
  });

  it('refills tokens as time passes', async () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter<string>(10, 1, clock);
    limiter.when('a');
    await clock.advance(100);
    expect(limiter.when('a')).toBe(0);
  });
});

describe('MaxOfRateLimiter', () => {
  it('takes the longest delay and forgets in every part', () => {
    const clock = new FakeClock();
    const limiter = new MaxOfRateLimiter<string>(
      new ExponentialFailureRateLimiter(5, 1000),
      new BucketRateLimiter(1, 1, clock),
    );
    expect(limiter.when('a')).toBe(5);
    expect(limiter.when('a')).toBe(1000);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
  });

  it('defaults to client-go timings: 5 ms first, capped at 1000 s', () => {
    const limiter = defaultControllerRateLimiter<string>(new FakeClock(), { qps: 1e9, burst: 1e9 });
    const delays = Array.from({ length: 30 }, () => limiter.when('a'));
    expect(delays.slice(0, 3)).toEqual([5, 10, 20]);
    expect(delays.at(-1)).toBe(1_000_000);
  });
});
