import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { CdmSinkProvision } from '../api/types.js';
import { createPoolProvider, finalize, reconcile } from '../reconcile/index.js';
import type { PoolProvider, ReconcileDeps } from '../reconcile/types.js';
import { type Clock, realClock, settleWithin } from './clock.js';
import { ControllerLoop } from './controller.js';
import { EventRecorder } from './event-recorder.js';
import { type HealthServer, startHealthServer } from './health-server.js';
import { InformerSupervisor } from './informer-supervisor.js';
import type { FinalizeFn, ReconcileFn } from './key-handler.js';
import { createKubePorts, provisionLister, provisionWatchPath } from './kube-clients.js';
import type { KubePorts } from './kube-ports.js';
import { LeaderElector } from './leader-election.js';
import { createLogger } from './logger.js';
import { OwnWrites } from './own-writes.js';
import { createPrometheusMetrics, type PrometheusMetrics } from './prometheus-metrics.js';
import {
  type ControllerRateLimiterOptions,
  defaultControllerRateLimiter,
  type RateLimiter,
} from './rate-limiter.js';
import { createSecretResolver } from './secret-resolver.js';

/** The controller's name in metrics and the queue's name (controller-runtime uses the kind, lower-cased). */
export const CONTROLLER_NAME = 'cdmsinkprovision';
export const COMPONENT = 'cdm-sink-controller';

export interface StartControllerOptions {
  readonly kubeConfig: KubeConfig;
  /** Namespaces to watch; empty or omitted means all. */
  readonly namespaces?: readonly string[];
  readonly concurrency?: number;
  /** Every provision is reconciled again at least this often (default 10 min). */
  readonly resyncPeriodMs?: number;
  /** 0 picks a free port; the chosen one is on the result. */
  readonly metricsPort?: number;
  readonly healthPort?: number;
  readonly bindAddress?: string;
  readonly catalogUrl?: string;
  readonly leaderElection?: {
    readonly leaseName: string;
    readonly leaseNamespace: string;
    readonly leaseDurationMs?: number;
    readonly renewDeadlineMs?: number;
    readonly retryPeriodMs?: number;
  };
  /** Holder identity and Event `reportingInstance`. */
  readonly identity: string;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly rateLimiter?: ControllerRateLimiterOptions;
  /** Replaces the default rate limiter entirely (tests record the delays it hands out). */
  readonly limiter?: RateLimiter<string>;
  readonly informer?: {
    readonly watchdogMs?: number;
    readonly restartBaseMs?: number;
    readonly restartCapMs?: number;
    readonly watchTimeoutSeconds?: number;
  };
  /**
   * Upper bound on the whole graceful shutdown (default 25 s, inside a pod's 30 s grace period): waiting
   * for reconciles in flight gets what the later steps do not reserve, and every step has a deadline.
   */
  readonly shutdownTimeoutMs?: number;
  readonly advisoryLockTimeoutMs?: number;
  /** Process metrics (CPU, memory, event loop) in /metrics; off by default so tests stay light. */
  readonly defaultMetrics?: boolean;
  /** Injection points; default to the real reconcile core, client-node and pg. */
  readonly reconcile?: ReconcileFn;
  readonly finalize?: FinalizeFn;
  readonly pools?: PoolProvider;
  readonly ports?: KubePorts;
}

export interface RunningController {
  readonly identity: string;
  readonly healthPort: number;
  readonly metricsPort: number;
  readonly metrics: PrometheusMetrics;
  isLeader(): boolean;
  hasSynced(): boolean;
  waitForSync(): Promise<void>;
  /** Keys this replica has handled (reconciled, finalized or found gone). */
  handled(): number;
  /** How often the informers restarted their watches. */
  informerRestarts(): number;
  /** Queues every known provision now, as the periodic resync does; returns how many. */
  resync(): number;
  /**
   * Graceful shutdown within `shutdownTimeoutMs`: stop taking keys, let those in flight finish (bounded),
   * send the Events recorded so far, revoke leadership so nothing in flight writes any more and wait for
   * writes under way, only then release the lease; then stop the informers, end the pools and close the
   * health server, each with a deadline. `release: false` keeps the lease, which is what a crash looks
   * like to the other replicas; `drain: false` interrupts reconciles in flight at once (a process in an
   * unknown state must not finish them).
   */
  stop(options?: { release?: boolean; drain?: boolean }): Promise<void>;
  /** Marks the process failed: `/healthz` answers 503 from now on. */
  markFailed(): void;
}

/** What the steps after the drain may take at most (events, the fence, the release, informers, pools). */
const SHUTDOWN_STEP_MS = {
  events: 1_000,
  fence: 2_000,
  lastEvent: 500,
  release: 3_000,
  informers: 1_000,
  pools: 1_500,
};

/**
 * Starts the controller: informers on every replica, workers only on the leader (or at once without
 * leader election), probes and metrics. Resolves once everything is started, not once synced.
 */
export async function startController(options: StartControllerOptions): Promise<RunningController> {
  const clock = options.clock ?? realClock;
  const logger = options.logger ?? createLogger();
  const concurrency = options.concurrency ?? 4;
  const resyncPeriodMs = options.resyncPeriodMs ?? 600_000;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 25_000;
  const election = options.leaderElection;
  const metrics = createPrometheusMetrics({
    controller: CONTROLLER_NAME,
    leaseName: election?.leaseName ?? COMPONENT,
    defaultMetrics: options.defaultMetrics ?? false,
  });
  const ports = options.ports ?? createKubePorts(options.kubeConfig);
  const pools = options.pools ?? createPoolProvider({ max: Math.max(4, concurrency) });
  const reconcileDeps: ReconcileDeps = {
    resolveDatabaseUrl: createSecretResolver(ports.secrets),
    catalogUrl: options.catalogUrl,
    pools,
    now: () => new Date(clock.now()),
    resyncAfterMs: resyncPeriodMs,
    advisoryLockTimeoutMs: options.advisoryLockTimeoutMs,
  };

  const supervisors: InformerSupervisor<CdmSinkProvision>[] = [];
  const cache = {
    get(key: string): CdmSinkProvision | undefined {
      for (const supervisor of supervisors) {
        const obj = supervisor.get(key);
        if (obj) return obj;
      }
      return undefined;
    },
  };
  const events = new EventRecorder({
    client: ports.events,
    component: COMPONENT,
    instance: options.identity,
    clock,
    logger,
  });
  const loop = new ControllerLoop({
    handler: {
      cache,
      provisions: ports.provisions,
      events,
      ownWrites: new OwnWrites(),
      reconcile: options.reconcile ?? reconcile,
      finalize: options.finalize ?? finalize,
      reconcileDeps,
      metrics,
      logger,
    },
    clock,
    limiter: options.limiter ?? defaultControllerRateLimiter(clock, options.rateLimiter),
    metrics,
    logger,
    concurrency,
    holdsLeadership: () => elector?.holdsLease() ?? true,
  });
  const namespaces = options.namespaces?.length ? options.namespaces : [undefined];
  for (const namespace of namespaces) {
    supervisors.push(
      new InformerSupervisor<CdmSinkProvision>({
        name: namespace ?? '<all namespaces>',
        kubeConfig: options.kubeConfig,
        path: provisionWatchPath(namespace),
        list: provisionLister(options.kubeConfig, namespace),
        listener: loop.listener,
        clock,
        logger,
        metrics,
        resyncPeriodMs,
        ...options.informer,
      }),
    );
  }

  const queueAll = (): number => {
    let queued = 0;
    for (const supervisor of supervisors) {
      for (const key of supervisor.keys()) {
        loop.queue.add(key);
        queued++;
      }
    }
    return queued;
  };

  const elector = election
    ? new LeaderElector({
        leases: ports.leases,
        namespace: election.leaseNamespace,
        name: election.leaseName,
        identity: options.identity,
        leaseDurationMs: election.leaseDurationMs,
        renewDeadlineMs: election.renewDeadlineMs,
        retryPeriodMs: election.retryPeriodMs,
        clock,
        logger,
        onStartedLeading: () => {
          metrics.leader(true);
          // Keys may have been dropped or backed off on another replica; start from everything known.
          queueAll();
          loop.startWorkers();
        },
        onStoppedLeading: () => {
          // Whatever is in flight may no longer write, even while a shutdown is draining it.
          void loop.interrupt(0);
          void loop.stopTaking();
          metrics.leader(false);
          // Only the leader reports per-provision readiness, so dashboards summing replicas count each once.
          metrics.clearProvisions();
        },
      })
    : undefined;

  let stopped = false;
  let stopping: Promise<void> | undefined;
  let failed = false;
  const health: HealthServer = await startHealthServer({
    healthPort: options.healthPort ?? 8081,
    metricsPort: options.metricsPort ?? 8080,
    host: options.bindAddress,
    registry: metrics.registry,
    checks: {
      live: () => !stopped && !failed && (elector?.healthy() ?? true),
      ready: () => !stopped && supervisors.every((s) => s.hasSynced()),
    },
  });
  for (const supervisor of supervisors) supervisor.start();
  if (elector) elector.start();
  else loop.startWorkers();
  logger.info(
    {
      identity: options.identity,
      namespaces: options.namespaces?.length ? options.namespaces : 'all',
      concurrency,
      resyncPeriodMs,
      leaderElection: election ? `${election.leaseNamespace}/${election.leaseName}` : false,
      healthPort: health.healthPort,
      metricsPort: health.metricsPort,
    },
    'controller started',
  );

  return {
    identity: options.identity,
    healthPort: health.healthPort,
    metricsPort: health.metricsPort,
    metrics,
    isLeader: () => (elector ? elector.isLeader() : !stopped),
    hasSynced: () => supervisors.every((s) => s.hasSynced()),
    waitForSync: async () => {
      await Promise.all(supervisors.map((s) => s.waitForSync()));
    },
    handled: () => loop.handled(),
    informerRestarts: () => supervisors.reduce((n, s) => n + s.restartCount(), 0),
    resync: queueAll,
    markFailed() {
      failed = true;
    },
    stop(stopOptions = {}) {
      // One shutdown: a second caller (a fatal error during a graceful stop) waits for the same one.
      stopping ??= shutDown(stopOptions);
      return stopping;
    },
  };

  async function shutDown(stopOptions: { release?: boolean; drain?: boolean }): Promise<void> {
    stopped = true;
    const deadline = clock.monotonic() + shutdownTimeoutMs;
    const left = (capMs: number) => Math.max(0, Math.min(capMs, deadline - clock.monotonic()));
    const step = async (what: string, capMs: number, work: Promise<unknown>) => {
      if (!(await settleWithin(clock, left(capMs), work)))
        logger.warn({ step: what }, 'shutdown step did not finish in time; going on');
    };
    const reserved = Object.values(SHUTDOWN_STEP_MS).reduce((a, b) => a + b, 0);
    logger.info({ identity: options.identity, timeoutMs: shutdownTimeoutMs }, 'shutting down');
    await loop.stopTaking();
    if (stopOptions.drain ?? true) await loop.drain(left(shutdownTimeoutMs - reserved));
    await events.flush(left(SHUTDOWN_STEP_MS.events));
    // Revoke before release: once the Lease is free another replica may write, so nothing of ours may.
    if (!(await loop.interrupt(left(SHUTDOWN_STEP_MS.fence))))
      logger.warn('writes in flight did not finish before the lease was released');
    // Queued Events are dropped by the revoked fence; this waits for the one already on the wire.
    await events.close(left(SHUTDOWN_STEP_MS.lastEvent));
    loop.shutDown();
    await step(
      'release the lease',
      SHUTDOWN_STEP_MS.release,
      elector?.stop({ release: stopOptions.release ?? true }) ?? Promise.resolve(),
    );
    metrics.leader(false);
    metrics.clearProvisions();
    await step(
      'stop the informers',
      SHUTDOWN_STEP_MS.informers,
      Promise.all(supervisors.map((s) => s.stop())),
    );
    if (!options.pools) await step('close the database pools', SHUTDOWN_STEP_MS.pools, pools.end());
    await health.close();
    logger.info({ identity: options.identity }, 'stopped');
  }
}
