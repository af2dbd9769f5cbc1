import type { Condition } from '../api/types.js';
import type { Reason } from '../errors/index.js';

/**
 * What the controller measures, as a port: the queue and the work loop never import prom-client
 * (client-go `workqueue/metrics.go` `MetricsProvider` with a no-op default). `prometheus-metrics.ts`
 * implements it with the controller-runtime metric names.
 */

/** `controller_runtime_reconcile_total{result}` label values (controller-runtime `labelError`, …). */
export const ReconcileResult = Object.freeze({
  success: 'success',
  error: 'error',
  requeue: 'requeue',
  requeueAfter: 'requeue_after',
} as const);
export type ReconcileResult = (typeof ReconcileResult)[keyof typeof ReconcileResult];
export const RECONCILE_RESULTS: readonly ReconcileResult[] = Object.values(ReconcileResult);

/** Work in progress, measured when asked: a gauge sampled only at get/done would freeze on a stuck key. */
export interface ProcessingTimes {
  /** Sum over the keys being processed of the seconds since each was handed out. */
  readonly unfinishedSeconds: number;
  /** Seconds the longest-running key has been processed; 0 when none is. */
  readonly longestSeconds: number;
}

export interface ProcessingSource {
  processingTimes(): ProcessingTimes;
}

export interface QueueMetrics {
  depth(ready: number): void;
  added(): void;
  retried(): void;
  /** Seconds a key waited between its add (or its delay elapsing) and the get that took it. */
  queued(seconds: number): void;
  /** Seconds between the get that took a key and its done. */
  worked(seconds: number): void;
  /**
   * The queue registers itself when built, so scrapes read processing times from it directly (client-go
   * refreshes these gauges on a 500 ms loop instead). The last queue registered is the one reported.
   */
  watch(source: ProcessingSource): void;
}

export interface ProvisionStatusSample {
  readonly ready: boolean;
  readonly conditions: readonly Pick<Condition, 'type' | 'status' | 'reason'>[];
}

/** Raised when the informer's list/watch restarts after an error or its watchdog; the `informer` is its name. */
export interface InformerMetrics {
  watchRestarted(informer: string): void;
}

export interface ControllerMetrics extends InformerMetrics {
  readonly queue: QueueMetrics;
  reconciled(result: ReconcileResult, seconds: number): void;
  reconcileError(): void;
  /** The reason a reconcile ended with (the Ready condition's, or the error's). */
  reason(reason: Reason): void;
  /** DDL statements a reconcile ran (0 for a no-op). */
  statementsApplied(count: number): void;
  leader(isLeader: boolean): void;
  /** A reconcile's verdict: readiness, and the current Ready/Reconciling/Stalled conditions with their reasons. */
  provisionStatus(namespace: string, name: string, status: ProvisionStatusSample): void;
  provisionRemoved(namespace: string, name: string): void;
  /** Drops every provision's series: a standby must not keep reporting what it no longer watches. */
  clearProvisions(): void;
  /** A worker started (1) or finished (-1) a reconcile. */
  activeWorkers(delta: 1 | -1): void;
}

export const noopQueueMetrics: QueueMetrics = Object.freeze({
  depth() {},
  added() {},
  retried() {},
  queued() {},
  worked() {},
  watch() {},
});

export const noopMetrics: ControllerMetrics = Object.freeze({
  queue: noopQueueMetrics,
  reconciled() {},
  reconcileError() {},
  reason() {},
  statementsApplied() {},
  leader() {},
  provisionStatus() {},
  provisionRemoved() {},
  clearProvisions() {},
  activeWorkers() {},
  watchRestarted() {},
});
