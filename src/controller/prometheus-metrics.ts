import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { REASONS, type Reason } from '../errors/index.js';
import {
  type ControllerMetrics,
  type ProcessingSource,
  type ProcessingTimes,
  type ProvisionStatusSample,
  RECONCILE_RESULTS,
  type ReconcileResult,
} from './metrics.js';

export interface PrometheusMetrics extends ControllerMetrics {
  readonly registry: Registry;
}

/** controller-runtime's reconcile-time buckets (`pkg/internal/controller/metrics/metrics.go`). */
const RECONCILE_TIME_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
  1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/**
 * Go's `prometheus.ExponentialBuckets`, computed the same way (repeated multiplication) so the bounds equal
 * a Go operator's to the last bit, float error included; only the `le` spelling differs (prom-client
 * prints 0.000009999999999999999 where Go prints 9.999999999999999e-06), which PromQL parses alike.
 */
function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const buckets: number[] = [];
  for (let bound = start; buckets.length < count; bound *= factor) buckets.push(bound);
  return buckets;
}

/** controller-runtime's workqueue histogram buckets, 10 ns to 1000 s (`pkg/internal/metrics/workqueue.go`). */
const WORKQUEUE_DURATION_BUCKETS = exponentialBuckets(10e-9, 10, 12);

/** The kstatus conditions the controller writes (DESIGN §3); anything else in status is not exported. */
const CONDITION_TYPES: ReadonlySet<string> = new Set(['Ready', 'Reconciling', 'Stalled']);

const IDLE: ProcessingTimes = Object.freeze({ unfinishedSeconds: 0, longestSeconds: 0 });

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
  const queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: ['name'] as const,
    buckets: WORKQUEUE_DURATION_BUCKETS,
    registers: [registry],
  });
  const workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes.',
    labelNames: ['name'] as const,
    buckets: WORKQUEUE_DURATION_BUCKETS,
    registers: [registry],
  });
  // Read from the queue at scrape time: a value set at get/done would stand still while a key is stuck,
  // which is exactly when these gauges matter.
  let processing: ProcessingSource | undefined;
  const processingTimes = () => processing?.processingTimes() ?? IDLE;
  new Gauge({
    name: 'workqueue_unfinished_work_seconds',
    help:
      'How many seconds of work has been done that ' +
      "is in progress and hasn't been observed by work_duration. Large " +
      'values indicate stuck threads. One can deduce the number of stuck ' +
      'threads by observing the rate at which this increases.',
    labelNames: ['name'] as const,
    registers: [registry],
    collect() {
      this.set({ name: queueName }, processingTimes().unfinishedSeconds);
    },
  });
  new Gauge({
    name: 'workqueue_longest_running_processor_seconds',
    help: 'How many seconds has the longest running processor for workqueue been running.',
    labelNames: ['name'] as const,
    registers: [registry],
    collect() {
      this.set({ name: queueName }, processingTimes().longestSeconds);
    },
  });
  const activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'] as const,
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
  // kube-state-metrics' `kube_customresource_status_condition` shape plus the reason, so a dashboard can count
  // provisions by Ready status and reason and an alert can select Stalled or exclude Suspended. One series
  // per provision and condition type: a changed status or reason replaces it (the old one is removed).
  const condition = new Gauge({
    name: 'cdm_sink_provision_condition',
    help: 'A CdmSinkProvision condition (Ready, Reconciling, Stalled) with its current status and reason; always 1',
    labelNames: ['namespace', 'name', 'type', 'status', 'reason'] as const,
    registers: [registry],
  });
  const conditionSeries = new Map<string, Map<string, { status: string; reason: string }>>();
  const removeConditions = (namespace: string, name: string) => {
    const key = `${namespace}/${name}`;
    for (const [type, { status, reason }] of conditionSeries.get(key) ?? []) {
      condition.remove({ namespace, name, type, status, reason });
    }
    conditionSeries.delete(key);
  };
  const setConditions = (namespace: string, name: string, sample: ProvisionStatusSample) => {
    removeConditions(namespace, name);
    const series = new Map<string, { status: string; reason: string }>();
    for (const { type, status, reason } of sample.conditions) {
      if (!CONDITION_TYPES.has(type)) continue;
      series.set(type, { status, reason });
      condition.set({ namespace, name, type, status, reason }, 1);
    }
    conditionSeries.set(`${namespace}/${name}`, series);
  };
  const watchRestarts = new Counter({
    name: 'cdm_sink_watch_restarts_total',
    help: 'Times an informer restarted its list/watch after an error or a silent watch',
    labelNames: ['informer'] as const,
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
  queueDuration.zero({ name: queueName });
  workDuration.zero({ name: queueName });
  activeWorkers.set({ controller }, 0);
  leader.set({ name: leaseName }, 0);
  for (const reason of REASONS) reasons.inc({ reason }, 0);

  return {
    registry,
    queue: {
      depth: (n: number) => depth.set({ name: queueName }, n),
      added: () => adds.inc({ name: queueName }),
      retried: () => retries.inc({ name: queueName }),
      queued: (seconds: number) => queueDuration.observe({ name: queueName }, seconds),
      worked: (seconds: number) => workDuration.observe({ name: queueName }, seconds),
      watch: (source: ProcessingSource) => {
        processing = source;
      },
    },
    reconciled(result: ReconcileResult, seconds: number) {
      reconcileTotal.inc({ controller, result });
      reconcileTime.observe({ controller }, seconds);
    },
    reconcileError: () => reconcileErrors.inc({ controller }),
    reason: (reason: Reason) => reasons.inc({ reason }),
    statementsApplied: (count: number) => statements.inc(count),
    leader: (isLeader: boolean) => leader.set({ name: leaseName }, isLeader ? 1 : 0),
    provisionStatus(namespace: string, name: string, sample: ProvisionStatusSample) {
      ready.set({ namespace, name }, sample.ready ? 1 : 0);
      setConditions(namespace, name, sample);
    },
    provisionRemoved(namespace: string, name: string) {
      ready.remove({ namespace, name });
      removeConditions(namespace, name);
    },
    clearProvisions() {
      ready.reset();
      condition.reset();
      conditionSeries.clear();
    },
    watchRestarted: (informer: string) => watchRestarts.inc({ informer }),
    activeWorkers: (delta: 1 | -1) => activeWorkers.inc({ controller }, delta),
  };
}
