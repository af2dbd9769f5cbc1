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

export interface QueueMetrics {
  depth(ready: number): void;
  added(): void;
  retried(): void;
}

export interface ControllerMetrics {
  readonly queue: QueueMetrics;
  reconciled(result: ReconcileResult, seconds: number): void;
  reconcileError(): void;
  /** The reason a reconcile ended with (the Ready condition's, or the error's). */
  reason(reason: Reason): void;
  /** DDL statements a reconcile ran (0 for a no-op). */
  statementsApplied(count: number): void;
  leader(isLeader: boolean): void;
  provisionReady(namespace: string, name: string, ready: boolean): void;
  provisionRemoved(namespace: string, name: string): void;
}

export const noopQueueMetrics: QueueMetrics = Object.freeze({
  depth() {},
  added() {},
  retried() {},
});

export const noopMetrics: ControllerMetrics = Object.freeze({
  queue: noopQueueMetrics,
  reconciled() {},
  reconcileError() {},
  reason() {},
  statementsApplied() {},
  leader() {},
  provisionReady() {},
  provisionRemoved() {},
});
