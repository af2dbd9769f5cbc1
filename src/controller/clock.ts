/**
 * Time as a dependency. Everything in the controller that waits (queue delays, backoff, resync, the
 * watchdog, leader election) asks a `Clock`, so tests drive time with `FakeClock` instead of sleeping
 * (client-go `DelayingQueueConfig.Clock`, `testingclock.FakeClock`).
 */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch: for timestamps people and other processes read, never for durations. */
  now(): number;
  /**
   * Milliseconds from an arbitrary origin that never jumps (`performance.now()`): every duration a
   * decision depends on (lease expiry, deadlines) uses it, so an NTP step or a VM resume cannot shorten one.
   */
  monotonic(): number;
  /** Runs `fn` once after `ms`; a non-positive delay still runs asynchronously. */
  setTimer(ms: number, fn: () => void): Timer;
}

export const realClock: Clock = Object.freeze({
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer(ms: number, fn: () => void): Timer {
    const handle = setTimeout(fn, Math.max(0, ms));
    // Pending delays alone must not keep a stopped controller (or a test worker) alive.
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
});

/** Resolves after `ms` on `clock`, or early (without rejecting) when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      timer.cancel();
      resolve();
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface PendingTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Lets pending promise callbacks (and the I/O-free async work they start) run to completion. */
export async function flushAsync(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A clock that only moves when told to. `advance` fires due timers in time order, letting the async
 * work each one starts settle before the next, so chains like "timer → await → new timer" behave as
 * they would in real time.
 */
export class FakeClock implements Clock {
  private current: number;
  private readonly origin: number;
  private wallOffset = 0;
  private seq = 0;
  private readonly timers: PendingTimer[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
    this.origin = start;
  }

  now(): number {
    return this.current + this.wallOffset;
  }

  monotonic(): number {
    return this.current - this.origin;
  }

  /** Steps the wall clock only, as NTP or a VM resume does; timers and `monotonic` are unaffected. */
  stepWallClock(ms: number): void {
    this.wallOffset += ms;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const timer: PendingTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Delays of the timers still pending, relative to now, soonest first. */
  pendingDelays(): number[] {
    return this.live()
      .map((t) => t.at - this.current)
      .sort((a, b) => a - b);
  }

  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await flushAsync();
    for (;;) {
      const next = this.live()
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      next.cancelled = true;
      this.current = next.at;
      next.fn();
      await flushAsync();
    }
    this.current = target;
    this.prune();
  }

  private live(): PendingTimer[] {
    return this.timers.filter((t) => !t.cancelled);
  }

  private prune(): void {
    const keep = this.live();
    this.timers.length = 0;
    this.timers.push(...keep);
  }
}

/** Waits for `work` at most `ms` on `clock`: true when it settled in time (a rejection counts as settled). */
export async function settleWithin(clock: Clock, ms: number, work: Promise<unknown>): Promise<boolean> {
  const deadline = new AbortController();
  const settled = work.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, sleep(clock, ms, deadline.signal).then(() => false)]);
  deadline.abort();
  return result;
}
