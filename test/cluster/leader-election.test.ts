import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterEnv, eventually, installOperator, kubectl, SYSTEM_NAMESPACE } from './cluster-env.js';

const LEASE_DURATION_MS = 4_000;
const RETRY_PERIOD_MS = 500;

describe('leader election on a real Lease', () => {
  let env: ClusterEnv;
  beforeAll(async () => {
    await installOperator();
    env = await ClusterEnv.create('leader');
  });
  afterAll(() => env?.close());

  const holder = async () => {
    const leases = env.kc.makeApiClient(CoordinationV1Api);
    const lease = await leases.readNamespacedLease({
      namespace: SYSTEM_NAMESPACE,
      name: `cdm-sink-${env.namespace}`,
    });
    return lease.spec?.holderIdentity;
  };
  const ready = (name: string) =>
    kubectl(['wait', `cdmsink/${name}`, '-n', env.namespace, '--for=condition=Ready', '--timeout=60s']);

  it('SIGKILL the leader: the other replica takes over within the lease duration and finishes the work', async () => {
    const kubeconfig = await env.serviceAccountKubeconfig();
    const args = ['--lease-duration=4s', '--renew-deadline=3s', `--retry-period=${RETRY_PERIOD_MS}ms`];
    const first = env.startController({ kubeconfig, identity: 'replica-a', args });
    await eventually('replica-a leading', async () => (await holder()) === 'replica-a', 30_000);
    env.startController({ kubeconfig, identity: 'replica-b', args });
    await env.createSink('before');
    expect((await ready('before')).code).toBe(0);

    await first.stop('SIGKILL');
    const killedAt = Date.now();
    // Created while nobody leads: only the new leader can provision it.
    await env.createSink('after');
    await eventually('replica-b leading', async () => (await holder()) === 'replica-b', 30_000);
    const takeoverMs = Date.now() - killedAt;
    // The Lease expires LEASE_DURATION after its last renewal (at most one retry period before the kill);
    // replica-b notices within a retry period; one more for the API round trips.
    expect(takeoverMs).toBeLessThan(LEASE_DURATION_MS + 3 * RETRY_PERIOD_MS + 2_000);
    const waited = await ready('after');
    expect(waited.code, waited.stderr).toBe(0);
    expect(await env.tables('cdm_after')).toEqual(['cdm_work_project']);
  });
});
