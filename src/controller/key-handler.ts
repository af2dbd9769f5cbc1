import type { Logger } from 'pino';
import type { CdmSinkProvision, CdmSinkProvisionStatus } from '../api/types.js';
import { REASONS, type Reason } from '../errors/index.js';
import { Action } from '../reconcile/action.js';
import type {
  FinalizeOutcome,
  ReconcileDeps,
  ReconcileEvent,
  ReconcileOptions,
  ReconcileOutcome,
} from '../reconcile/types.js';
import { isNotFound } from './api-errors.js';
import { errorPolicy, type Requeue } from './error-policy.js';
import type { EventRecorder } from './event-recorder.js';
import { addFinalizer, finalizerState, removeFinalizer } from './finalizer.js';
import type { ProvisionClient } from './kube-ports.js';
import { type LeadershipFence, REVOKED } from './leadership-fence.js';
import type { ControllerMetrics } from './metrics.js';
import type { OwnWrites } from './own-writes.js';
import { writeStatus } from './status-writer.js';

export type ReconcileFn = (
  provision: CdmSinkProvision,
  deps: ReconcileDeps,
  options: ReconcileOptions,
) => Promise<ReconcileOutcome>;
export type FinalizeFn = (provision: CdmSinkProvision, deps: ReconcileDeps) => Promise<FinalizeOutcome>;

export interface KeyHandlerDeps {
  readonly cache: { get(key: string): CdmSinkProvision | undefined };
  readonly provisions: ProvisionClient;
  readonly events: Pick<EventRecorder, 'record'>;
  readonly ownWrites: OwnWrites;
  readonly reconcile: ReconcileFn;
  readonly finalize: FinalizeFn;
  readonly reconcileDeps: ReconcileDeps;
  readonly metrics: ControllerMetrics;
  readonly logger: Logger;
}

export interface KeyResult {
  readonly requeue: Requeue;
  readonly error?: unknown;
  /** True when the handler stopped early because the fence was revoked (leadership lost). */
  readonly interrupted?: boolean;
}

const DONE: KeyResult = Object.freeze({ requeue: Action.awaitChange() });
const INTERRUPTED: KeyResult = Object.freeze({ requeue: Action.awaitChange(), interrupted: true });

function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * Handles one key, level-based (STYLE.md rule 8): reads the object from the cache, never an event,
 * and switches on `{hasFinalizer, isDeleting}` over all four cases.
 *
 * Every cluster write goes through `fence`, revoked when this replica stops leading, so a replica that
 * lost the lease stops touching the cluster at the next step (the DDL itself is guarded by the advisory
 * lock).
 */
export async function handleKey(
  key: string,
  deps: KeyHandlerDeps,
  fence: LeadershipFence,
): Promise<KeyResult> {
  const cached = deps.cache.get(key);
  if (!cached) {
    const { namespace, name } = splitKey(key);
    deps.metrics.provisionRemoved(namespace, name);
    deps.ownWrites.forget(key);
    return DONE;
  }
  let provision = deps.ownWrites.resolve(key, cached);
  const state = finalizerState(provision);

  if (!state.isDeleting && !state.hasFinalizer) {
    // The finalizer goes on before the first DDL, so a delete can never skip cleanup.
    const before = provision;
    const updated = await fence.write(() =>
      deps.ownWrites.track(key, before, () => addFinalizer(deps.provisions, before)),
    );
    if (updated === REVOKED) return INTERRUPTED;
    if (!updated) return DONE;
    provision = updated;
    if (!finalizerState(provision).hasFinalizer) return DONE;
    return reconcileProvision(key, provision, deps, fence);
  }
  if (!state.isDeleting && state.hasFinalizer) return reconcileProvision(key, provision, deps, fence);
  if (state.isDeleting && state.hasFinalizer) return finalizeProvision(key, provision, deps, fence);
  // Deleting without our finalizer: the cleanup is done (or was never ours); the object is about to go.
  return DONE;
}

async function reconcileProvision(
  key: string,
  provision: CdmSinkProvision,
  deps: KeyHandlerDeps,
  fence: LeadershipFence,
): Promise<KeyResult> {
  const outcome = await deps.reconcile(provision, deps.reconcileDeps, { mode: 'apply' });
  if ((await updateStatus(key, provision, outcome.status, deps, fence)) === REVOKED) return INTERRUPTED;
  emit(provision, outcome.events, outcome.error, deps, fence);
  reportStatus(provision, outcome.ready, outcome.status, deps, fence);
  deps.metrics.statementsApplied(outcome.statementsApplied);
  countReason(deps.metrics, outcome.status, outcome.error);
  logOutcome(deps.logger, key, provision, outcome.statementsApplied, outcome.error);
  return { requeue: outcome.error ? errorPolicy(outcome.error) : outcome.action, error: outcome.error };
}

async function finalizeProvision(
  key: string,
  provision: CdmSinkProvision,
  deps: KeyHandlerDeps,
  fence: LeadershipFence,
): Promise<KeyResult> {
  const outcome = await deps.finalize(provision, deps.reconcileDeps);
  if (fence.revoked) return INTERRUPTED;
  emit(provision, outcome.events, outcome.error, deps, fence);
  countReason(deps.metrics, outcome.status, outcome.error);
  if (outcome.done && !outcome.error) {
    if ((await fence.write(() => removeFinalizer(deps.provisions, provision))) === REVOKED)
      return INTERRUPTED;
    const { namespace = '', name } = provision.metadata;
    deps.metrics.provisionRemoved(namespace, name);
    deps.logger.info(
      { provision: key, deletionPolicy: provision.spec.deletionPolicy },
      'finalized; finalizer removed',
    );
    return DONE;
  }
  // Cleanup could not finish: the finalizer stays, and the status says why.
  if ((await updateStatus(key, provision, outcome.status, deps, fence)) === REVOKED) return INTERRUPTED;
  // A deletion that waits or is blocked is not Ready; its metrics say so, as its status does.
  reportStatus(provision, false, outcome.status, deps, fence);
  logOutcome(deps.logger, key, provision, 0, outcome.error);
  return { requeue: outcome.error ? errorPolicy(outcome.error) : outcome.action, error: outcome.error };
}

/** Only a leader reports a provision's status; one that stepped down during the write already cleared it. */
function reportStatus(
  provision: CdmSinkProvision,
  ready: boolean,
  status: CdmSinkProvisionStatus,
  deps: KeyHandlerDeps,
  fence: LeadershipFence,
): void {
  if (fence.revoked) return;
  const { namespace = '', name } = provision.metadata;
  deps.metrics.provisionStatus(namespace, name, { ready, conditions: status.conditions ?? [] });
}

/**
 * A 404 means the object was deleted while we reconciled it: there is no status left to write, and the
 * deletion's own watch event brings the key back, so it is neither an error nor a reason to back off.
 */
async function updateStatus(
  key: string,
  provision: CdmSinkProvision,
  next: CdmSinkProvisionStatus,
  deps: KeyHandlerDeps,
  fence: LeadershipFence,
): Promise<typeof REVOKED | undefined> {
  const written = await fence.write(() =>
    deps.ownWrites
      .track(key, provision, () => writeStatus(deps.provisions, provision, next))
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
        deps.logger.debug({ provision: key }, 'deleted while reconciling; status not written');
        return undefined;
      }),
  );
  return written === REVOKED ? REVOKED : undefined;
}

/** The core's events, plus a Warning for a failure the core did not describe with one; queued, never awaited. */
function emit(
  provision: CdmSinkProvision,
  events: readonly ReconcileEvent[],
  error: { reason: string; message: string } | undefined,
  deps: KeyHandlerDeps,
  fence: LeadershipFence,
): void {
  const all = [...events];
  if (error && !events.some((e) => e.type === 'Warning' && e.reason === error.reason)) {
    all.push({ type: 'Warning', reason: error.reason, message: error.message });
  }
  for (const event of all) deps.events.record(provision, event, fence);
}

function countReason(
  metrics: ControllerMetrics,
  status: CdmSinkProvisionStatus,
  error: { reason: string } | undefined,
): void {
  const reason = error?.reason ?? status.conditions?.find((c) => c.type === 'Ready')?.reason;
  // Only the stable reasons become label values: an unknown string must not grow the series set.
  if (reason && (REASONS as readonly string[]).includes(reason)) metrics.reason(reason as Reason);
}

function logOutcome(
  logger: Logger,
  key: string,
  provision: CdmSinkProvision,
  statementsApplied: number,
  error: unknown,
): void {
  const fields = { provision: key, generation: provision.metadata.generation, statementsApplied };
  if (error) logger.warn({ ...fields, err: error }, 'reconcile failed');
  else if (statementsApplied > 0) logger.info(fields, 'reconciled');
  else logger.debug(fields, 'reconciled; nothing to do');
}
