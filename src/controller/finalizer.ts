import { type CdmSinkProvision, FINALIZER } from '../api/types.js';
import { isConflict, isNotFound } from './api-errors.js';
import type { ProvisionClient } from './kube-ports.js';

/** Deletion as data (kube-runtime `finalizer.rs`); the work loop switches over all four cases. */
export interface FinalizerState {
  readonly hasFinalizer: boolean;
  readonly isDeleting: boolean;
}

export function finalizerState(provision: CdmSinkProvision): FinalizerState {
  return {
    hasFinalizer: provision.metadata.finalizers?.includes(FINALIZER) ?? false,
    isDeleting: provision.metadata.deletionTimestamp !== undefined,
  };
}

/** Attempts before a persistent 409 is handed back to the error policy. */
const CONFLICT_ATTEMPTS = 5;

/**
 * Runs `change` against the freshest copy we can get; undefined when the object no longer exists. A merge patch replaces the whole finalizers list,
 * so each patch carries `metadata.resourceVersion` as a precondition; on 409 we re-read and retry.
 */
async function withConflictRetry(
  client: ProvisionClient,
  provision: CdmSinkProvision,
  change: (current: CdmSinkProvision) => Promise<CdmSinkProvision | undefined>,
): Promise<CdmSinkProvision | undefined> {
  let current: CdmSinkProvision | undefined = provision;
  for (let attempt = 1; ; attempt++) {
    try {
      return await change(current);
    } catch (error) {
      // Gone already: nothing left to add a finalizer to or to remove one from.
      if (isNotFound(error)) return undefined;
      if (!isConflict(error) || attempt >= CONFLICT_ATTEMPTS) throw error;
    }
    current = await client.get(current.metadata.namespace ?? '', current.metadata.name);
    if (!current) return undefined;
  }
}

function patchFinalizers(client: ProvisionClient, current: CdmSinkProvision, finalizers: string[]) {
  const { namespace = '', name, resourceVersion } = current.metadata;
  return client.patch(namespace, name, { metadata: { finalizers, resourceVersion } });
}

/**
 * Adds our finalizer before anything is created, so a delete can never skip cleanup. Returns the
 * updated object; leaves an object that is (now) being deleted alone, since the API server refuses
 * new finalizers on it.
 */
export async function addFinalizer(
  client: ProvisionClient,
  provision: CdmSinkProvision,
): Promise<CdmSinkProvision | undefined> {
  return withConflictRetry(client, provision, async (current) => {
    const state = finalizerState(current);
    if (state.hasFinalizer || state.isDeleting) return current;
    return patchFinalizers(client, current, [...(current.metadata.finalizers ?? []), FINALIZER]);
  });
}

/** Removes our finalizer (other controllers' stay); the API server then completes the delete. */
export async function removeFinalizer(client: ProvisionClient, provision: CdmSinkProvision): Promise<void> {
  await withConflictRetry(client, provision, async (current) => {
    if (!finalizerState(current).hasFinalizer) return current;
    return patchFinalizers(
      client,
      current,
      (current.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
    );
  });
}
