import { describe, expect, it } from 'vitest';
import { writeStatus } from './status-writer.js';
import { InMemoryKube } from './testing/in-memory-kube.js';
import { aProvision } from './testing/provision-builder.js';

describe('writeStatus', () => {
  it('patches the status subresource with only what changed and skips an equal status', async () => {
    const kube = new InMemoryKube();
    const created = kube.create(aProvision('jira').build());
    const status = { observedGeneration: 1, sinkEndpointId: 'default/jira' };
    const updated = await writeStatus(kube.ports.provisions, created, status);
    expect(updated?.status).toEqual(status);
    expect(await writeStatus(kube.ports.provisions, updated!, { ...status })).toBeUndefined();
    expect(kube.calls.filter((c) => c === 'provisions.patchStatus')).toHaveLength(1);
  });

  it('removes members the next status no longer has', async () => {
    const kube = new InMemoryKube();
    const created = kube.create(aProvision('jira').build());
    const first = await writeStatus(kube.ports.provisions, created, {
      observedGeneration: 1,
      sinkEndpointId: 'x',
    });
    const second = await writeStatus(kube.ports.provisions, first!, { observedGeneration: 1 });
    expect(second?.status).toEqual({ observedGeneration: 1 });
  });
});
