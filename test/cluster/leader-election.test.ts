import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControllerProcess } from '../support/controller-process.js';
import {
  ClusterEnv,
  eventually,
  installOperator,
  SYSTEM_NAMESPACE,
  sigtermHandover,
  waitReady,
} from './cluster-env.js';

const LEASE_DURATION_MS = 4_000;
const RETRY_PERIOD_MS = 500;
/** The standby polls every retry period plus up to 1.2 × of jitter (client-go `JitterUntil`). */
const MAX_POLL_MS = 2.2 * RETRY_PERIOD_MS;

describe('leader election on a real Lease', () => {
  let env: ClusterEnv;
  let kubeconfig: string;
  const args = ['--lease-duration=4s', '--renew-deadline=3s', `--retry-period=${RETRY_PERIOD_MS}ms`];
  const measured: Record<string, number> = {};
  beforeAll(async () => {
    await installOperator();
    env = await ClusterEnv.create('leader');
    kubeconfig = await env.serviceAccountKubeconfig();
  });
  afterAll(async () => {
    console.log(JSON.stringify({ handoverMs: measured }));
    await env?.close();
  });

  const holder = async () => {
    const leases = env.kc.makeApiClient(CoordinationV1Api);
    const lease = await leases.readNamespacedLease({
      namespace: SYSTEM_NAMESPACE,
      name: `cdm-sink-${env.namespace}`,
    });
    return lease.spec?.holderIdentity;
  };
  const ready = (name: string) => waitReady(env.namespace, name);

  let a: ControllerProcess;
  let b: ControllerProcess;
  it('SIGTERM the leader: it releases the Lease and the standby leads within 2.2 retry periods', async () => {
    a = env.startController({ kubeconfig, identity: 'replica-a', args });
    await eventually('replica-a leading', async () => (await holder()) === 'replica-a', 30_000);
    b = env.startController({ kubeconfig, identity: 'replica-b', args });
    await env.createSink('before');
    expect((await ready('before')).code).toBe(0);
    await eventually('replica-b synced', () => b.logged(/controller started/));

    const handover = await sigtermHandover(a, b, 10_000);
    expect(handover.exitCode).toBe(0);
    measured.sigtermShutdown = handover.shutdownMs;
    measured.releaseToLeader = handover.releaseToLeaderMs;
    measured.sigtermToLeader = handover.sigtermToLeaderMs;
    expect(measured.releaseToLeader).toBeLessThan(MAX_POLL_MS + 500);
    await env.createSink('released');
    expect((await ready('released')).code).toBe(0);
  });

  it('SIGKILL the leader: the other replica takes over within the lease duration and finishes the work', async () => {
    const c = env.startController({ kubeconfig, identity: 'replica-c', args });
    await eventually('replica-c synced', () => c.logged(/controller started/), 30_000);
    await eventually('replica-b still leading', async () => (await holder()) === 'replica-b');

    await b.stop('SIGKILL');
    const killed = Date.now();
    // Created while nobody leads: only the new leader can provision it.
    await env.createSink('after');
    await eventually('replica-c leading', () => c.loggedAt('became leader'), 30_000);
    measured.sigkillToLeader = (c.loggedAt('became leader') ?? 0) - killed;
    // The Lease expires LEASE_DURATION after its last renewal (at most a retry period before the kill);
    // replica-c notices within one of its polls; plus the API round trips.
    expect(measured.sigkillToLeader).toBeLessThan(LEASE_DURATION_MS + MAX_POLL_MS + 1_000);
    expect(await holder()).toBe('replica-c');
    const waited = await ready('after');
    expect(waited.code, waited.stderr).toBe(0);
    expect(await env.tables('cdm_after')).toEqual(['cdm_work_project']);
  });
});
