import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { REASONS, type Reason } from '../errors/index.js';
import { type ControllerMetrics, RECONCILE_RESULTS, type ReconcileResult } from './metrics.js';

export interface PrometheusMetrics extends ControllerMetrics {
  readonly registry: Registry;
}

/** controller-runtime's reconcile-time buckets (`pkg/internal/controller/metrics/metrics.go`). */
const RECONCILE_TIME_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
  1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/**
 * The controller's metrics in a registry of its own (never prom-client's global one, so two controllers
 * in one process, as in tests, do not collide). Names follow controller-runtime and client-go so
 * existing dashboards work; every labelled series is pre-created at 0 (controller-runtime `initMetrics`).
 */
export function createPrometheusMetrics(options: {
  controller: string;
  queueName?: string;
  leaseName?: string;
  defaultMetrics?: boolean;
}): PrometheusMetrics {
  const registry = new Registry();
  const controller = options.controller;
  const queueName = options.queueName ?? controller;
  const leaseName = options.leaseName ?? controller;
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });

  const reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'] as const,
    registers: [registry],
  });
  const reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'] as const,
    registers: [registry],
  });
  const reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'] as const,
    buckets: RECONCILE_TIME_BUCKETS,
    registers: [registry],
  });
  const depth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames: ['name'] as const,
    registers: [registry],
  });
  const adds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: ['name'] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: ['name'] as const,
    registers: [registry],
  });
  const leader = new Gauge({
    name: 'leader_election_master_status',
    help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
    labelNames: ['name'] as const,
    registers: [registry],
  });
  const ready = new Gauge({
    name: 'cdm_sink_provision_ready',
    help: 'Whether a CdmSinkProvision is Ready (1) or not (0)',
    labelNames: ['namespace', 'name'] as const,
    registers: [registry],
  });
  const reasons = new Counter({
    name: 'cdm_sink_reconcile_reason_total',
    help: 'Reconciles by the reason they ended with',
    labelNames: ['reason'] as const,
    registers: [registry],
  });

  const statements = new Counter({
    name: 'cdm_sink_ddl_statements_total',
    help: 'DDL statements run by reconciles; stays flat while nothing drifts',
    registers: [registry],
  });

  for (const result of RECONCILE_RESULTS) reconcileTotal.inc({ controller, result }, 0);
  reconcileErrors.inc({ controller }, 0);
  reconcileTime.zero({ controller });
  depth.set({ name: queueName }, 0);
  adds.inc({ name: queueName }, 0);
  retries.inc({ name: queueName }, 0);
  leader.set({ name: leaseName }, 0);
  for (const reason of REASONS) reasons.inc({ reason }, 0);

  return {
    registry,
    queue: {
      depth: (n: number) => depth.set({ name: queueName }, n),
      added: () => adds.inc({ name: queueName }),
      retried: () => retries.inc({ name: queueName }),
    },
    reconciled(result: ReconcileResult, seconds: number) {
      reconcileTotal.inc({ controller, result });
      reconcileTime.observe({ controller }, seconds);
    },
    reconcileError: () => reconcileErrors.inc({ controller }),
    reason: (reason: Reason) => reasons.inc({ reason }),
    statementsApplied: (count: number) => statements.inc(count),
    leader: (isLeader: boolean) => leader.set({ name: leaseName }, isLeader ? 1 : 0),
    provisionReady: (namespace: string, name: string, isReady: boolean) =>
      ready.set({ namespace, name }, isReady ? 1 : 0),
    provisionRemoved: (namespace: string, name: string) => ready.remove({ namespace, name }),
  };
}
