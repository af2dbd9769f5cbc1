export { createPoolProvider } from '../postgres/pool-provider.js';
export { Action } from './action.js';
export { finalize } from './finalize.js';
export { reconcile } from './reconcile.js';
export type {
  FinalizeOutcome,
  PlanReport,
  PoolProvider,
  ReconcileDeps,
  ReconcileEvent,
  ReconcileOptions,
  ReconcileOutcome,
} from './types.js';
