import { type Clock, settleWithin } from './clock.js';

/** What a writer asks before each write; the Event recorder takes only this. */
export interface WriteFence {
  /** True once no more writes may begin. */
  readonly revoked: boolean;
}

/** Returned instead of a write's result when leadership was revoked before the write began. */
export const REVOKED: unique symbol = Symbol('leadership revoked');

/**
 * Fences the cluster writes of one term of leadership (status, finalizers, Events). Every write asks the
 * fence first, so none begins once the term is revoked; the fence counts the writes already under way, so
 * a shutdown can wait for them before it hands the Lease over, and the next leader never sees an old
 * write land after its own.
 *
 * Caveat: a write whose request is already on the wire when the fence is revoked still lands; `settled`
 * is how the owner waits for those before releasing the Lease.
 */
export class LeadershipFence implements WriteFence {
  private ended = false;
  private readonly writes = new Set<Promise<unknown>>();

  /** `holds` is asked before every write: leadership can lapse before anyone gets round to revoking it. */
  constructor(private readonly holds: () => boolean = () => true) {}

  /** Revoked, or leadership lapsed; either way, no more writes. */
  get revoked(): boolean {
    return this.ended || !this.holds();
  }

  revoke(): void {
    this.ended = true;
  }

  /** Runs `write` unless the term has ended. */
  async write<T>(write: () => Promise<T>): Promise<T | typeof REVOKED> {
    if (this.revoked) return REVOKED;
    const running = write();
    this.writes.add(running);
    try {
      return await running;
    } finally {
      this.writes.delete(running);
    }
  }

  /** Waits up to `ms` for the writes under way to finish; false when some did not. */
  settled(clock: Clock, ms: number): Promise<boolean> {
    return settleWithin(clock, ms, Promise.allSettled([...this.writes]));
  }
}
