import type { Clock } from './clock.js';

/**
 * How long a key waits before its next retry (client-go `util/workqueue/default_rate_limiters.go`).
 * `when` counts a failure and returns the delay; `forget` resets the key after a success.
 */
export interface RateLimiter<K> {
  when(key: K): number;
  forget(key: K): void;
  numRequeues(key: K): number;
}

/** `baseMs * 2^failures`, capped at `capMs`, per key. */
export class ExponentialFailureRateLimiter<K> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>();

  constructor(
    private readonly baseMs: number,
    private readonly capMs: number,
  ) {}

  when(key: K): number {
    const exponent = this.failures.get(key) ?? 0;
    this.failures.set(key, exponent + 1);
    const delay = this.baseMs * 2 ** exponent;
    // 2^exponent overflows to Infinity long before the counter itself is a problem.
    return Number.isFinite(delay) ? Math.min(delay, this.capMs) : this.capMs;
  }

  forget(key: K): void {
    this.failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * An overall token bucket (golang.org/x/time/rate `Reserve().Delay()`): `burst` retries at once, then
 * `qps` per second across all keys, so a failing fleet cannot hammer the database or the API server.
 */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  when(_key: K): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  forget(_key: K): void {}

  numRequeues(_key: K): number {
    return 0;
  }
}

/** The longest delay of its parts; failures are counted by every part. */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  private readonly limiters: readonly RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }

  when(key: K): number {
    return Math.max(0, ...this.limiters.map((l) => l.when(key)));
  }

  forget(key: K): void {
    for (const l of this.limiters) l.forget(key);
  }

  numRequeues(key: K): number {
    return Math.max(0, ...this.limiters.map((l) => l.numRequeues(key)));
  }
}

export interface ControllerRateLimiterOptions {
  /** First retry delay; client-go: 5 ms. */
  readonly baseMs?: number;
  /** Longest per-key delay; client-go: 1000 s. */
  readonly capMs?: number;
  /** Overall retry rate; client-go: 10 qps with a burst of 100. */
  readonly qps?: number;
  readonly burst?: number;
}

/** client-go's `DefaultTypedControllerRateLimiter`: max of per-key exponential and an overall bucket. */
export function defaultControllerRateLimiter<K>(
  clock: Clock,
  options: ControllerRateLimiterOptions = {},
): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(
    new ExponentialFailureRateLimiter<K>(options.baseMs ?? 5, options.capMs ?? 1_000_000),
    new BucketRateLimiter<K>(options.qps ?? 10, options.burst ?? 100, clock),
  );
}
