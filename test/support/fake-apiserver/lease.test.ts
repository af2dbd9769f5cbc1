import { V1MicroTime } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApiServer, startFakeApiServer } from './index.js';
import { apiFailure, type Clients, clientsFor, NS } from './test-fixtures.js';

let server: FakeApiServer;
let api: Clients;

beforeAll(async () => {
  server = await startFakeApiServer();
  api = clientsFor(server);
});
afterAll(() => server.close());

const leaseBody = (holder: string) => ({
  metadata: { name: 'leader', namespace: NS },
  spec: {
    holderIdentity: holder,
    leaseDurationSeconds: 15,
    renewTime: new V1MicroTime(),
    leaseTransitions: 0,
  },
});

describe('leases', () => {
  it('lets exactly one of two racing electors create the lease', async () => {
    const results = await Promise.allSettled([
      api.coordination.createNamespacedLease({ namespace: NS, body: leaseBody('a') }),
      api.coordination.createNamespacedLease({ namespace: NS, body: leaseBody('b') }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const loser = results.find((r) => r.status === 'rejected');
    const { code, status } = await apiFailure(Promise.reject((loser as PromiseRejectedResult).reason));
    expect(code).toBe(409);
    expect(status.reason).toBe('AlreadyExists');
  });

  it('lets exactly one of two electors take over from the same observed resourceVersion', async () => {
    const observed = await api.coordination.readNamespacedLease({ namespace: NS, name: 'leader' });
    // client-node 1.4 types renewTime as V1MicroTime (a Date) but its serializer has no model for it, so a
    // read returns the wire string: elector code must parse it rather than call Date methods on it.
    expect(typeof observed.spec?.renewTime).toBe('string');
    const takeOver = (holder: string) =>
      api.coordination.replaceNamespacedLease({
        namespace: NS,
        name: 'leader',
        body: { ...observed, spec: { ...observed.spec, holderIdentity: holder, leaseTransitions: 1 } },
      });
    const results = await Promise.allSettled([takeOver('c'), takeOver('d')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((await apiFailure(Promise.reject(loser.reason))).status.reason).toBe('Conflict');
    const winner = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<typeof observed>)
      .value;
    expect(Number(winner.metadata?.resourceVersion)).toBeGreaterThan(
      Number(observed.metadata?.resourceVersion),
    );
  });

  it('validates lease durations', async () => {
    const { code } = await apiFailure(
      api.coordination.createNamespacedLease({
        namespace: NS,
        body: { metadata: { name: 'bad' }, spec: { leaseDurationSeconds: 0 } },
      }),
    );
    expect(code).toBe(422);
  });
});
