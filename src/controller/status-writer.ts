import type { CdmSinkProvision, CdmSinkProvisionStatus } from '../api/types.js';
import { createMergePatch } from './json-merge-patch.js';
import type { ProvisionClient } from './kube-ports.js';

/**
 * Writes `next` to the `/status` subresource as a merge patch of only what differs, and writes nothing
 * when it equals the current status. Skipping equal writes is what keeps the controller from
 * reacting to its own status updates in a loop (STYLE.md rule 19, anti-pattern 5).
 *
 * Returns the updated object, or undefined when nothing was written.
 */
export async function writeStatus(
  client: ProvisionClient,
  provision: CdmSinkProvision,
  next: CdmSinkProvisionStatus,
): Promise<CdmSinkProvision | undefined> {
  const patch = createMergePatch(provision.status ?? {}, next);
  if (patch === undefined) return undefined;
  const { namespace = '', name } = provision.metadata;
  return client.patchStatus(namespace, name, { status: patch });
}
