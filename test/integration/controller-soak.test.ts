import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { V1Lease } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControllerProcess } from '../support/controller-process.js';
import { prng } from '../support/prng.js';
import { aSinkProvision, ControllerEnv, eventually, isReadyForGeneration, LEASE } from './controller-env.js';

/**
 * Two controller processes under chaos: the leader is SIGTERMed or SIGKILLed at random (and replaced),
 * lease calls fail or hang, and database backends are terminated, while provisions are created and
 * edited. Lease timings are short so that minutes hold many handovers. Afterwards every provision must be
 * Ready, no provision may have had two writers interleaved, no process may have exited except the ones
 * the test stopped, and no watch may be left open.
 *
 * `CDM_SOAK_SECONDS` (default 45) sets the length of the chaos; `CDM_SOAK_SEED` replays a run.
 */
const SECONDS = Number(process.env.CDM_SOAK_SECONDS ?? '45');
const SEED = Number(process.env.CDM_SOAK_SEED ?? Date.now() % 1_000_000);
const PROVISIONS = 200;
const LEASE_NAME = 'soak';
const TIMING_ARGS = [
  '--lease-duration=3s',
  '--renew-deadline=1500ms',
  '--retry-period=250ms',
  '--concurrency=4',
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Replica {
  readonly identity: string;
  readonly process: ControllerProcess;
  /** Set when the test stops it; any other exit is a failure. */
  stoppedWith?: NodeJS.Signals;
}

describe(`two controller processes under chaos (${SECONDS} s, seed ${SEED})`, () => {
  let env: ControllerEnv;
  let dir: string;
  const replicas: Replica[] = [];
  const random = prng(SEED);
  let incarnation = 0;

  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const lease = () =>
    env.api.get('coordination.k8s.io/v1', 'Lease', LEASE.leaseNamespace, LEASE_NAME) as V1Lease | undefined;
  const running = () => replicas.filter((r) => r.stoppedWith === undefined);

  /** A new process with an identity (and API user) of its own, so its writes can be told apart. */
  async function spawnReplica(): Promise<Replica> {
    const identity = `soak-${++incarnation}`;
    const kubeconfig = path.join(dir, `${identity}.kubeconfig`);
    await writeFile(kubeconfig, env.api.kubeConfig({ user: identity }).exportConfig());
    const replica: Replica = {
      identity,
      process: new ControllerProcess({
        kubeconfig,
        identity,
        leaseName: LEASE_NAME,
        leaseNamespace: LEASE.leaseNamespace,
        args: [...TIMING_ARGS, '--log-level=info'],
      }),
    };
    replicas.push(replica);
    return replica;
  }

  async function stopReplica(replica: Replica, signal: NodeJS.Signals): Promise<void> {
    replica.stoppedWith = signal;
    const code = await replica.process.stop(signal);
    if (signal === 'SIGTERM') expect(code, `${replica.identity} after SIGTERM`).toBe(0);
  }

  beforeAll(async () => {
    env = await ControllerEnv.create();
    dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-soak-'));
    env.secret('soak-sink', env.db.url);
  });
  afterAll(async () => {
    await Promise.all(running().map((r) => stopReplica(r, 'SIGKILL')));
    await env?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(
    'ends with every provision Ready, one writer at a time per provision, and nothing leaked',
    async () => {
      await spawnReplica();
      await spawnReplica();
      const names = Array.from({ length: PROVISIONS }, (_, i) => `soak-${i}`);
      const created: string[] = [];
      const actions: string[] = [];
      /** Creates up to `n` of the provisions not created yet. */
      const createNext = (n: number) => {
        for (const name of names.slice(created.length, created.length + n)) {
          env.createProvision(
            aSinkProvision(name, { schema: `cdm_${name.replace('-', '_')}`, secret: 'soak-sink' }),
          );
          created.push(name);
        }
      };
      const until = performance.now() + SECONDS * 1_000;
      let terminated = 0;

      while (performance.now() < until) {
        // Keep work flowing: new provisions until all exist, then spec edits that need DDL.
        createNext(8);
        if (created.length === names.length) {
          for (let i = 0; i < 5; i++) {
            const current = env.provision(pick(created));
            if (!current) continue;
            const models = current.spec.models.includes('cdm.work.user')
              ? ['cdm.work.project']
              : ['cdm.work.project', 'cdm.work.user'];
            env.updateProvision({ ...current, spec: { ...current.spec, models } });
          }
        }
        const roll = random();
        const holder = lease()?.spec?.holderIdentity;
        const leader = running().find((r) => r.identity === holder);
        if (roll < 0.15 && leader) {
          actions.push(`SIGTERM ${leader.identity}`);
          await stopReplica(leader, 'SIGTERM');
          await spawnReplica();
        } else if (roll < 0.3 && leader) {
          actions.push(`SIGKILL ${leader.identity}`);
          await stopReplica(leader, 'SIGKILL');
          await spawnReplica();
        } else if (roll < 0.45) {
          actions.push('lease calls fail');
          env.api.faults.failNext(4 + Math.floor(random() * 12), { status: 503, pathIncludes: '/leases/' });
        } else if (roll < 0.55) {
          actions.push('lease calls hang');
          env.api.faults.delay(120_000, { pathIncludes: '/leases/' });
          await sleep(300 + random() * 1_200);
          env.api.faults.delay(0);
        } else if (roll < 0.8) {
          const { rowCount } = await env.db.pool.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cdm-sink-operator'",
          );
          terminated += rowCount ?? 0;
          actions.push(`terminated ${rowCount} backends`);
        }
        await sleep(500 + random() * 1_500);
      }
      env.api.faults.reset();
      env.api.faults.delay(0);
      createNext(names.length);
      // Whatever the chaos left, two replicas run from here on.
      while (running().length < 2) await spawnReplica();
      await eventually(
        'a running replica leads',
        () => running().some((r) => r.identity === lease()?.spec?.holderIdentity),
        30_000,
      );

      // Last, every replica's lease calls hang for a moment: leader election must come back on its own
      // within a few retry periods of the fault ending, not when the held requests finally give up.
      env.api.faults.delay(120_000, { pathIncludes: '/leases/' });
      await sleep(1_000);
      env.api.faults.delay(0);
      const faultEnded = performance.now();
      const rvAtFaultEnd = lease()?.metadata?.resourceVersion;
      await eventually(
        'the lease held and renewed again',
        () => {
          const current = lease();
          return (
            current?.metadata?.resourceVersion !== rvAtFaultEnd &&
            running().some((r) => r.identity === current?.spec?.holderIdentity)
          );
        },
        10_000,
      );
      const leaderBackMs = Math.round(performance.now() - faultEnded);

      await eventually(
        'every provision Ready for its generation',
        () => created.every((name) => isReadyForGeneration(env.provision(name))),
        180_000,
      );
      expect(created).toHaveLength(PROVISIONS);

      // One writer at a time: every write to a provision (status, finalizer) was applied while its writer
      // held the Lease, in the order the API server applied writes (a former leader may lead again later).
      const overlapping: string[] = [];
      let holder = '';
      const applied = env.api.requests
        .filter((r) => r.status >= 200 && r.status < 300 && r.answered > 0)
        .sort((x, y) => x.answered - y.answered);
      for (const r of applied) {
        const lease = r.body as V1Lease | undefined;
        // A create names the Lease in its body, not in its path.
        const isLease = r.resource === 'leases' && lease?.metadata?.name === LEASE_NAME;
        if (isLease && (r.verb === 'update' || r.verb === 'create')) {
          holder = lease?.spec?.holderIdentity ?? '';
        } else if (r.resource === 'cdmsinkprovisions' && r.verb === 'patch' && r.user !== holder) {
          overlapping.push(
            `${r.name}${r.subresource ? `/${r.subresource}` : ''} by ${r.user} while ${holder || 'nobody'} held the lease`,
          );
        }
      }
      expect(overlapping).toEqual([]);

      // Nobody died on their own, nobody logged a fatal error.
      for (const replica of replicas) {
        if (replica.stoppedWith === undefined) expect(replica.process.running, replica.identity).toBe(true);
        expect(replica.process.lines.filter((l) => l.level >= 60).map((l) => l.msg)).toEqual([]);
      }
      // One watch per running replica, and none once they are gone.
      expect(env.api.openWatches).toBe(running().length);
      await Promise.all(running().map((r) => stopReplica(r, 'SIGTERM')));
      await eventually('every watch closed', () => env.api.openWatches === 0, 10_000);

      const handovers = new Set(replicas.map((r) => r.identity)).size;
      console.log(
        JSON.stringify({
          seed: SEED,
          seconds: SECONDS,
          replicas: handovers,
          terminated,
          actions: actions.length,
          leaderBackMs,
        }),
      );
    },
    (SECONDS + 300) * 1_000,
  );
});
