import { describe, expect, it } from 'vitest';
import { FINALIZER } from '../api/types.js';
import { addFinalizer, finalizerState, removeFinalizer } from './finalizer.js';
import { InMemoryKube } from './testing/in-memory-kube.js';
import { aProvision } from './testing/provision-builder.js';

describe('finalizers', () => {
  it('describes deletion as data over the four cases', () => {
    expect(finalizerState(aProvision().build())).toEqual({ hasFinalizer: false, isDeleting: false });
    expect(finalizerState(aProvision().withFinalizers(FINALIZER).deleting().build())).toEqual({
      hasFinalizer: true,
      isDeleting: true,
    });
  });

  it('adds ours next to others and retries on a stale resourceVersion', async () => {
    const kube = new InMemoryKube();
    const stale = kube.create(aProvision('jira').withFinalizers('other.io/keep').build());
    kube.updateSpec('default/jira', (p) => {
      p.spec.suspend = true;
    });
    const updated = await addFinalizer(kube.ports.provisions, stale);
    expect(updated?.metadata.finalizers).toEqual(['other.io/keep', FINALIZER]);
    expect(kube.calls).toEqual(['provisions.patch', 'provisions.get', 'provisions.patch']);
  });

  it('removes only ours, and the object goes once no finalizer is left', async () => {
    const kube = new InMemoryKube();
    const created = kube.create(aProvision('jira').withFinalizers(FINALIZER).build());
    kube.delete('default/jira');
    await removeFinalizer(kube.ports.provisions, kube.provisionStore.get('default/jira') ?? created);
    expect(kube.provisionStore.has('default/jira')).toBe(false);
  });
});
