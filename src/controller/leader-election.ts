import { type V1Lease, type V1LeaseSpec, V1MicroTime } from '@kubernetes/client-node';
import type { Logger } from 'pino';
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

/**
 * Lease-based leader election following client-go `tools/leaderelection` (`tryAcquireOrRenew`).
 *
 * Guarantees:
 * - A lease held by someone else is taken only after `leaseDuration` has passed since *we* last saw it
 *   change, measured on our own clock, so clock skew between replicas does not matter.
 * - Writes are PUTs carrying the lease's resourceVersion: of two candidates racing, one gets 409.
 * - The leader steps down (`onStoppedLeading`) once `renewDeadline` passes without a successful renewal,
 *   even while a renewal request hangs; `renewDeadline < leaseDuration` leaves others a margin.
 * - `stop({ release: true })` hands the lease over at once, as client-go's ReleaseOnCancel does.
 *
 * Caveats (as in client-go): this is not fencing. A paused leader may act briefly after losing the lease;
 * the sink's advisory lock and idempotent DDL make that harmless.
 */
export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private leading = false;
  private stopped = true;
  private observed: V1Lease | undefined;
  private observedAt = 0;
  private attemptTimer: Timer | undefined;
  private deadlineTimer: Timer | undefined;
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
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops campaigning; with `release`, gives the lease up if we hold it (omit it to simulate a crash). */
  async stop(options: { release: boolean }): Promise<void> {
    this.stopped = true;
    this.attemptTimer?.cancel();
    this.deadlineTimer?.cancel();
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
    const ok = await this.tryAcquireOrRenew().catch((error: unknown) => {
      this.options.logger.debug(
        { err: describeApiError(error), lease: this.options.name },
        'lease attempt failed',
      );
      return false;
    });
    if (this.stopped) return;
    if (ok) {
      this.armDeadline();
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

  private armDeadline(): void {
    this.deadlineTimer?.cancel();
    this.deadlineTimer = this.options.clock.setTimer(this.renewDeadlineMs, () => {
      if (this.stopped || !this.leading) return;
      this.leading = false;
      this.options.logger.warn(
        { lease: this.options.name },
        'failed to renew the lease in time; stepping down',
      );
      this.options.onStoppedLeading();
    });
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { leases, namespace, name, identity, clock } = this.options;
    const now = clock.now();
    // Fast path: the leader updates the lease it last wrote without reading it first.
    if (this.leading && this.observed) {
      try {
        this.observe(await leases.replace(namespace, name, this.withSpec(this.observed, now)), now);
        return true;
      } catch {
        // Someone else wrote it (409) or the call failed: fall back to reading it.
      }
    }
    const existing = await leases.get(namespace, name);
    if (!existing) {
      const lease: V1Lease = { metadata: { name, namespace }, spec: this.spec(now, undefined) };
      this.observe(await leases.create(namespace, lease), now);
      return true;
    }
    if (existing.metadata?.resourceVersion !== this.observed?.metadata?.resourceVersion)
      this.observe(existing, now);
    const holder = existing.spec?.holderIdentity ?? '';
    const durationMs = (existing.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== identity && this.observedAt + durationMs > now) return false;
    this.observe(await leases.replace(namespace, name, this.withSpec(existing, now)), now);
    return true;
  }

  private observe(lease: V1Lease, now: number): void {
    this.observed = lease;
    this.observedAt = now;
  }

  private withSpec(lease: V1Lease, now: number): V1Lease {
    return { ...lease, spec: this.spec(now, lease.spec) };
  }

  private spec(now: number, old: V1LeaseSpec | undefined): V1LeaseSpec {
    const renewing = old?.holderIdentity === this.options.identity;
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: renewing && old?.acquireTime ? old.acquireTime : new V1MicroTime(now),
      renewTime: new V1MicroTime(now),
      leaseTransitions: old ? (old.leaseTransitions ?? 0) + (renewing ? 0 : 1) : 0,
    };
  }

  /** client-go `release()`: empty holder and a 1 s duration so the next candidate need not wait. */
  private async release(): Promise<void> {
    const { leases, namespace, name, clock, logger } = this.options;
    if (!this.observed) return;
    const now = new V1MicroTime(clock.now());
    const spec: V1LeaseSpec = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: this.observed.spec?.leaseTransitions ?? 0,
    };
    try {
      await leases.replace(namespace, name, { ...this.observed, spec });
      logger.info({ lease: name }, 'released the lease');
    } catch (error) {
      logger.warn({ lease: name, err: describeApiError(error) }, 'could not release the lease');
    }
  }
}
