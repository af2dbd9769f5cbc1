import type { CdmSinkProvision, CdmSinkProvisionStatus } from '../api/types.js';
import type { OperatorError } from '../errors/index.js';
import type { ModelRegistry } from '../models/index.js';
import type { PoolProvider } from '../postgres/pool-provider.js';
import type { Action } from './action.js';

export type { PoolProvider } from '../postgres/pool-provider.js';

/** Everything the reconcile core needs from the outside world; the CLI, the controller and tests build one. */
export interface ReconcileDeps {
  /** Resolves `spec.endpoint.connection.secretRef` to a postgresql:// URL; throws `OperatorError('SecretNotFound')`. */
  resolveDatabaseUrl(provision: CdmSinkProvision): Promise<string>;
  /** Catalog database; the sink's own database when unset (DESIGN.md §5). */
  readonly catalogUrl?: string;
  /** Schema of the catalog tables (default `catalog`). */
  readonly catalogSchema?: string;
  readonly pools: PoolProvider;
  readonly now: () => Date;
  readonly registry?: ModelRegistry;
  /** How long to wait for the per-sink advisory lock before giving up with LockTimeout (default 30 s). */
  readonly advisoryLockTimeoutMs?: number;
  /** `statement_timeout` of a concurrent index build or constraint validation (default 1 h). */
  readonly indexBuildTimeoutMs?: number;
  /** Progress of long applies: each step's outcome as it finishes. */
  readonly onStep?: (step: {
    readonly description: string;
    readonly status: string;
    readonly durationMs: number;
  }) => void;
  /** How often a Ready provision is looked at again to find drift (default 10 min). */
  readonly resyncAfterMs?: number;
}

export interface ReconcileEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** A readable summary of a plan: what would run, and what was found but is never auto-fixed. */
export interface PlanReport {
  readonly hash: string;
  readonly steps: ReadonlyArray<{
    readonly kind: string;
    readonly target: string;
    readonly description: string;
    readonly sql: readonly string[];
    readonly hazards: readonly string[];
  }>;
  readonly findings: ReadonlyArray<{
    readonly table: string;
    readonly kind: string;
    readonly message: string;
  }>;
  readonly catalogChanges: ReadonlyArray<{ readonly datasetId: string; readonly change: string }>;
}

export interface ReconcileOutcome {
  /** The complete next status; write it only when it differs from the current one. */
  readonly status: CdmSinkProvisionStatus;
  readonly action: Action;
  readonly ready: boolean;
  readonly plan?: PlanReport;
  /** Statements actually executed (0 for a no-op or plan-only run). */
  readonly statementsApplied: number;
  readonly events: readonly ReconcileEvent[];
  readonly error?: OperatorError;
}

export interface ReconcileOptions {
  /** `plan` observes and plans but changes nothing (the CLI's `plan`). */
  readonly mode: 'apply' | 'plan';
}

export interface FinalizeOutcome {
  /** True when the finalizer may be removed. */
  readonly done: boolean;
  readonly status: CdmSinkProvisionStatus;
  readonly action: Action;
  readonly events: readonly ReconcileEvent[];
  readonly error?: OperatorError;
}
