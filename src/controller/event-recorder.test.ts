import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { EventRecorder } from './event-recorder.js';
import { silentLogger } from './logger.js';
import { InMemoryKube } from './testing/in-memory-kube.js';
import { aProvision } from './testing/provision-builder.js';

function recorder(kube: InMemoryKube, clock = new FakeClock()) {
  return new EventRecorder({
    client: kube.ports.events,
    component: 'cdm-sink-controller',
    instance: 'pod-a',
    clock,
    logger: silentLogger,
  });
}

describe('EventRecorder', () => {
  it('creates a core/v1 Event about the provision', async () => {
    const kube = new InMemoryKube();
    const provision = kube.create(aProvision('jira').inNamespace('data').build());
    await recorder(kube).record(provision, {
      type: 'Normal',
      reason: 'Provisioned',
      message: 'created 2 tables',
    });
    expect(kube.createdEvents[0]).toMatchObject({
      metadata: { namespace: 'data' },
      involvedObject: {
        kind: 'CdmSinkProvision',
        name: 'jira',
        namespace: 'data',
        uid: provision.metadata.uid,
      },
      type: 'Normal',
      reason: 'Provisioned',
      message: 'created 2 tables',
      source: { component: 'cdm-sink-controller' },
      reportingComponent: 'cdm-sink-controller',
      reportingInstance: 'pod-a',
      count: 1,
    });
  });

  it('aggregates a repeat into the same Event by bumping count and lastTimestamp', async () => {
    const kube = new InMemoryKube();
    const clock = new FakeClock();
    const events = recorder(kube, clock);
    const provision = kube.create(aProvision('jira').build());
    const failure = { type: 'Warning', reason: 'ConnectionFailed', message: 'connection refused' } as const;
    await events.record(provision, failure);
    await clock.advance(60_000);
    await events.record(provision, failure);
    await events.record(provision, failure);
    expect(kube.createdEvents).toHaveLength(1);
    expect(kube.createdEvents[0]?.count).toBe(3);
    expect(kube.eventPatches.at(-1)?.body).toEqual({
      count: 3,
      lastTimestamp: new Date(clock.now()).toISOString(),
    });
  });

  it('starts a new Event when the aggregated one has expired', async () => {
    const kube = new InMemoryKube();
    const events = recorder(kube);
    const provision = kube.create(aProvision('jira').build());
    const event = { type: 'Normal', reason: 'Provisioned', message: 'ok' } as const;
    await events.record(provision, event);
    kube.createdEvents.length = 0;
    await events.record(provision, event);
    expect(kube.createdEvents).toHaveLength(1);
  });

  it('masks a connection URL password in the message', async () => {
    const kube = new InMemoryKube();
    const provision = kube.create(aProvision('jira').build());
    await recorder(kube).record(provision, {
      type: 'Warning',
      reason: 'AuthenticationFailed',
      message: 'login failed for postgres://app:S3cr3t-Pa55-xyz@db:5432/cdm',
    });
    expect(kube.createdEvents[0]?.message).toBe('login failed for postgres://app:***@db:5432/cdm');
  });
});
