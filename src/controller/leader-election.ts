import { type V1Lease, type V1LeaseSpec, V1MicroTime } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { untilAborted } from './abortable.js';
import { describeApiError } from './api-errors.js';
import type { Clock, Timer } from './clock.js';
import type { LeaseClient } from './kube-ports.js';

export interface LeaderElectionOptions {
  readonly leases: LeaseClient;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  /** How long others wait after the last observed renewal before taking over (client-go: 15 s). */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps acting without a successful renewal (client-go: 10 s). */
  readonly renewDeadlineMs?: number;
  /** Pause between attempts (client-go: 2 s). */
  readonly retryPeriodMs?: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  /** Source of acquire-loop jitter; injectable so tests are deterministic. */
  readonly random?: () => number;
}

/** client-go `wait.JitterUntil` factor used by the acquire loop. */
const JITTER_FACTOR = 1.2;

/** Why a lease call was abandoned: it outlived its attempt's bound, or the elector stopped. */
class LeaseCallAbandoned extends Error {
  constructor(why: string) {
    super(`lease call abandoned: ${why}`);
  }
}

/**
 * Lease-based leader election following client-go `tools/leaderelection` (`tryAcquireOrRenew`).
 *
 * Guarantees:
 * - A lease held by someone else is taken only after `leaseDuration` has passed since *we* last saw it
 *   change (timestamped when the response arrived, as client-go does), measured on our own monotonic
 *   clock: neither clock skew between replicas nor a wall-clock step can shorten the wait.
 * - Writes are PUTs carrying the lease's resourceVersion: of two candidates racing, one gets 409.
 * - Every attempt (all its lease calls) is bounded by `renewDeadline` and its requests are aborted
 *   then, as client-go bounds each try with a context: a hung request or a half-open connection delays
 *   the next attempt by at most that, and `stop()` returns within it (plus the release, bounded alike).
 * - The leader steps down (`onStoppedLeading`) once `renewDeadline` passes without a successful renewal,
 *   even while a renewal request hangs; `renewDeadline < leaseDuration` leaves others a margin.
 * - `healthy()` turns false when no attempt has settled for longer than any working elector takes, so a
 *   liveness probe restarts a replica whose elector is stuck instead of leaving nobody leading.
 * - `stop({ release: true })` hands the lease over at once, as client-go's ReleaseOnCancel does.
 *
 * Caveats (as in client-go): the lease alone is not fencing. A paused leader may act briefly after
 * losing it; the controller fences its writes with the leadership signal, and the sink's advisory lock
 * and idempotent DDL make the rest harmless.
 */
export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  /** Longest a working elector goes without settling an attempt: one bounded attempt plus the longest pause. */
  private readonly wedgedAfterMs: number;
  private leading = false;
  private stopped = true;
  private observed: V1Lease | undefined;
  private observedAt = 0;
  private renewedAt = 0;
  private lastProgress = 0;
  private attemptTimer: Timer | undefined;
  private deadlineTimer: Timer | undefined;
  private attemptAbort: AbortController | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: LeaderElectionOptions) {
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.leaseDurationMs < 1000)
      throw new Error('leaseDuration must be at least 1 s (the Lease stores whole seconds)');
    if (this.leaseDurationMs <= this.renewDeadlineMs)
      throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.renewDeadlineMs <= JITTER_FACTOR * this.retryPeriodMs) {
      throw new Error(`renewDeadline must be greater than retryPeriod*${JITTER_FACTOR}`);
    }
    this.wedgedAfterMs =
      this.renewDeadlineMs + (1 + JITTER_FACTOR) * this.retryPeriodMs + this.leaseDurationMs;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Leading, and by our monotonic clock still inside `renewDeadline` of the last renewal sent. Writes ask
   * this just before they start: unlike the step-down timer, it cannot fire late when the event loop is
   * busy or the process was paused.
   */
  holdsLease(): boolean {
    return this.leading && this.options.clock.monotonic() - this.renewedAt < this.renewDeadlineMs;
  }

  /** False once the elector has made no progress for longer than a working one can (a stuck attempt, a lost timer). */
  healthy(): boolean {
    return this.stopped || this.options.clock.monotonic() - this.lastProgress <= this.wedgedAfterMs;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.lastProgress = this.options.clock.monotonic();
    this.schedule(0);
  }

  /**
   * Stops campaigning, abandoning an attempt in flight; with `release`, gives the lease up if we hold it
   * (omit it to simulate a crash). Returns within `renewDeadline` whatever the API server does.
   */
  async stop(options: { release: boolean }): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.attemptTimer?.cancel();
    this.deadlineTimer?.cancel();
    this.attemptAbort?.abort(new LeaseCallAbandoned('the elector stopped'));
    await this.inFlight;
    const wasLeading = this.leading;
    this.leading = false;
    if (options.release && wasLeading) await this.release();
  }

  private schedule(ms: number): void {
    this.attemptTimer = this.options.clock.setTimer(ms, () => {
      this.inFlight = this.attempt();
    });
  }

  private async attempt(): Promise<void> {
    // Whatever the server applied, it applied after this: others see our lease valid until at least
    // `sentAt + leaseDuration`, however long the answer took to reach us.
    const sentAt = this.options.clock.monotonic();
    const ok = await this.bounded((signal) => this.tryAcquireOrRenew(signal)).catch((error: unknown) => {
      this.options.logger.debug(
        {
          err: error instanceof LeaseCallAbandoned ? error.message : describeApiError(error),
          lease: this.options.name,
        },
        'lease attempt failed',
      );
      return false;
    });
    this.lastProgress = this.options.clock.monotonic();
    if (this.stopped) return;
    if (ok) {
      this.armDeadline(sentAt);
      if (!this.leading) {
        this.leading = true;
        this.options.logger.info(
          { lease: this.options.name, identity: this.options.identity },
          'became leader',
        );
        this.options.onStartedLeading();
      }
      this.schedule(this.retryPeriodMs);
      return;
    }
    const jitter = this.leading
      ? 0
      : (this.options.random ?? Math.random)() * JITTER_FACTOR * this.retryPeriodMs;
    this.schedule(this.retryPeriodMs + jitter);
  }

  /** Runs `work` with a signal that aborts after `renewDeadline` or on `stop()`, and stops waiting for it then. */
  private async bounded<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { clock } = this.options;
    const abort = new AbortController();
    this.attemptAbort = abort;
    const timer = clock.setTimer(this.renewDeadlineMs, () =>
      abort.abort(new LeaseCallAbandoned(`no answer within the renew deadline (${this.renewDeadlineMs} ms)`)),
    );
    try {
      return await untilAborted(work(abort.signal), abort.signal);
    } finally {
      timer.cancel();
      if (this.attemptAbort === abort) this.attemptAbort = undefined;
    }
  }

  /** Steps down `renewDeadline` after the renewal was sent, not answered, so a slow answer eats no margin. */
  private armDeadline(sentAt: number): void {
    this.renewedAt = sentAt;
    this.deadlineTimer?.cancel();
    const due = sentAt + this.renewDeadlineMs - this.options.clock.monotonic();
    this.deadlineTimer = this.options.clock.setTimer(due, () => {
      if (this.stopped || !this.leading) return;
      this.leading = false;
      this.options.logger.warn(
        { lease: this.options.name },
        'failed to renew the lease in time; stepping down',
      );
      this.options.onStoppedLeading();
    });
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { leases, namespace, name, identity, clock } = this.options;
    // Fast path: the leader updates the lease it last wrote without reading it first.
    if (this.leading && this.observed) {
      try {
        this.observe(await leases.replace(namespace, name, this.withSpec(this.observed), signal));
        return true;
      } catch (error) {
        if (signal.aborted) throw error;
        // Someone else wrote it (409) or the call failed: fall back to reading it.
      }
    }
    const existing = await leases.get(namespace, name, signal);
    if (!existing) {
      const lease: V1Lease = { metadata: { name, namespace }, spec: this.spec(undefined) };
      this.observe(await leases.create(namespace, lease, signal));
      return true;
    }
    if (existing.metadata?.resourceVersion !== this.observed?.metadata?.resourceVersion)
      this.observe(existing);
    const holder = existing.spec?.holderIdentity ?? '';
    const durationMs = (existing.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== identity && this.observedAt + durationMs > clock.monotonic())
      return false;
    this.observe(await leases.replace(namespace, name, this.withSpec(existing), signal));
    return true;
  }

  /** Called as each response arrives: the time we saw a change is when we learnt of it, not when we asked. */
  private observe(lease: V1Lease): void {
    this.observed = lease;
    this.observedAt = this.options.clock.monotonic();
  }

  private withSpec(lease: V1Lease): V1Lease {
    return { ...lease, spec: this.spec(lease.spec) };
  }

  /** Timestamps in the Lease are wall-clock time for people and tools; no decision here reads them back. */
  private spec(old: V1LeaseSpec | undefined): V1LeaseSpec {
    const now = new V1MicroTime(this.options.clock.now());
    const renewing = old?.holderIdentity === this.options.identity;
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: renewing && old?.acquireTime ? old.acquireTime : now,
      renewTime: now,
      leaseTransitions: old ? (old.leaseTransitions ?? 0) + (renewing ? 0 : 1) : 0,
    };
  }

  /** client-go `release()`: empty holder and a 1 s duration so the next candidate need not wait. */
  private async release(): Promise<void> {
    const { leases, namespace, name, clock, logger } = this.options;
    const observed = this.observed;
    if (!observed) return;
    const now = new V1MicroTime(clock.now());
    const spec: V1LeaseSpec = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: observed.spec?.leaseTransitions ?? 0,
    };
    try {
      await this.bounded((signal) => leases.replace(namespace, name, { ...observed, spec }, signal));
      logger.info({ lease: name }, 'released the lease');
    } catch (error) {
      logger.warn(
        {
          lease: name,
          err: error instanceof LeaseCallAbandoned ? error.message : describeApiError(error),
        },
        'could not release the lease; the other replicas take over once it expires',
      );
    }
  }
}
