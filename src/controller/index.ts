/**
 * The Kubernetes shell around the reconcile core: informers, work queue, finalizers, status, Events,
 * leader election, probes and metrics. `startController` is the library entry point (tests, the
 * benchmark); `runControllerCommand` is `cdm-sink controller`.
 */
export { type Clock, FakeClock, realClock } from './clock.js';
export { runControllerCommand } from './command.js';
export { type Backoff, errorPolicy, type Requeue } from './error-policy.js';
export type { FinalizeFn, ReconcileFn } from './key-handler.js';
export type { KubePorts } from './kube-ports.js';
export { createLogger, redactLogValue } from './logger.js';
export { type ControllerFlags, parseControllerFlags, UsageError } from './options.js';
export {
  COMPONENT,
  CONTROLLER_NAME,
  type RunningController,
  type StartControllerOptions,
  startController,
} from './start-controller.js';
