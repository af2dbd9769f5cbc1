import path from 'node:path';
import { Writable } from 'node:stream';
import { KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/controller/logger.js';
import { type RunningController, startController } from '../../src/controller/start-controller.js';
import { createPoolProvider } from '../../src/reconcile/index.js';
import { condition } from '../integration/controller-env.js';
import { type ApiServer, startApiServer, writeKubeconfig } from '../support/control-plane/control-plane.js';
import {
  ClusterEnv,
  controlPlane,
  eventually,
  installOperator,
  isReadyForGeneration,
} from './cluster-env.js';

/**
 * A kube-apiserver of this file's own on the shared etcd (an HA cluster's second API server), so it can
 * be stopped, restarted and read without a watch cache while the other test files keep theirs. The
 * test's own writes go through the shared API server, as another client's would.
 */
describe('a controller whose API server restarts, or whose watch expires after etcd compaction', () => {
  let env: ClusterEnv;
  let apiServer: ApiServer;
  beforeAll(async () => {
    await installOperator();
    env = await ClusterEnv.create('restart');
    const { binaries, etcdUrl, certs, workDir } = controlPlane();
    // Without the watch cache, a watch is served from etcd: a compacted resourceVersion is 410 Gone.
    apiServer = await startApiServer(
      binaries,
      { url: etcdUrl },
      certs,
      path.join(workDir, `${env.namespace}-apiserver.log`),
      ['--watch-cache=false'],
    );
  });
  afterAll(async () => {
    await env?.close();
    await apiServer?.stop();
  });

  const readyForGeneration = (name: string, generation: number) =>
    eventually(
      `${name} Ready for generation ${generation}`,
      async () => {
        const p = await env.provision(name);
        return p?.metadata.generation === generation && isReadyForGeneration(p) ? p : undefined;
      },
      60_000,
    );

  it('stop and restart kube-apiserver while provisions change: the informer re-lists and nothing is missed', async () => {
    const controller = env.startController({
      kubeconfig: await env.serviceAccountKubeconfig(undefined, undefined, apiServer.url),
      identity: 'restart-solo',
    });
    for (const name of ['kept', 'edited', 'removed']) await env.createSink(name);
    for (const name of ['kept', 'edited', 'removed']) await readyForGeneration(name, 1);

    await apiServer.stop();
    await env.patchProvision('edited', { spec: { models: ['cdm.work.project', 'cdm.work.user'] } });
    await env.custom.deleteNamespacedCustomObject({
      group: 'cdm.nucleus.io',
      version: 'v1alpha1',
      plural: 'cdmsinkprovisions',
      namespace: env.namespace,
      name: 'removed',
    });
    await env.createSink('added');
    await apiServer.restart();

    await readyForGeneration('edited', 2);
    await readyForGeneration('added', 1);
    await eventually(
      'removed finalized and gone',
      async () => (await env.provision('removed')) === undefined,
      60_000,
    );
    expect(await env.tables('cdm_edited')).toEqual(['cdm_work_project', 'cdm_work_user']);
    expect(await env.tables('cdm_added')).toEqual(['cdm_work_project']);
    expect(condition(await env.provision('kept'), 'Ready')?.status).toBe('True');
    await controller.stop();
  });

  it('a watch that gets 410 Gone after etcd compaction re-lists and misses nothing', async () => {
    const { workDir, certs } = controlPlane();
    const admin = await writeKubeconfig(
      path.join(workDir, `${env.namespace}-second.kubeconfig`),
      apiServer.url,
      certs.servingCa,
      {
        certFile: certs.adminCert,
        keyFile: certs.adminKey,
      },
    );
    const lines: string[] = [];
    const pools = createPoolProvider({ max: 4 });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(admin);
    let controller: RunningController | undefined;
    try {
      controller = await startController({
        kubeConfig,
        identity: 'compaction',
        namespaces: [env.namespace],
        pools,
        healthPort: 0,
        metricsPort: 0,
        bindAddress: '127.0.0.1',
        logger: createLogger({
          level: 'debug',
          destination: new Writable({
            write: (chunk, _encoding, done) => {
              lines.push(...String(chunk).split('\n').filter(Boolean));
              done();
            },
          }),
        }),
        // Watches end every 2 s and resume from the last resourceVersion seen, which compaction removes.
        informer: { watchTimeoutSeconds: 2, watchdogMs: 60_000, restartBaseMs: 50, restartCapMs: 500 },
      });
      await controller.waitForSync();
      await env.createSink('compacted');
      await readyForGeneration('compacted', 1);
      const restartsBefore = controller.informerRestarts();

      // Other objects move etcd's revision past the one this watch resumes from; then compact to it.
      for (let i = 0; i < 5; i++)
        await env.core.createNamespacedConfigMap({
          namespace: env.namespace,
          body: { metadata: { name: `bump-${i}` }, data: { i: String(i) } } satisfies V1ConfigMap,
        });
      const revision = await etcdRevision(controlPlane().etcdUrl);
      await etcdCompact(controlPlane().etcdUrl, revision);
      // The next watch (within 2 s) resumes from a compacted revision. Nothing may change the provision
      // before that, or the live watch would move past the compacted revision first.
      await eventually('the 410 seen and answered with a re-list', () =>
        lines.some((l) => l.includes('"msg":"watch expired (410 Gone); re-listing"')),
      );
      await env.patchProvision('compacted', { spec: { models: ['cdm.work.project', 'cdm.work.item'] } });
      await readyForGeneration('compacted', 2);
      expect(await env.tables('cdm_compacted')).toEqual(['cdm_work_item', 'cdm_work_project']);
      // client-node's informer re-listed by itself; the supervisor never had to restart the watch.
      expect(controller.informerRestarts()).toBe(restartsBefore);
    } finally {
      await controller?.stop();
      await pools.end();
    }
  });
});

/** etcd's current revision, through its JSON gateway. */
async function etcdRevision(etcdUrl: string): Promise<number> {
  const response = await fetch(`${etcdUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: 'AA==' }),
  });
  const body = (await response.json()) as { header: { revision: string } };
  return Number(body.header.revision);
}

async function etcdCompact(etcdUrl: string, revision: number): Promise<void> {
  const response = await fetch(`${etcdUrl}/v3/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision: String(revision), physical: true }),
  });
  if (!response.ok) throw new Error(`etcd compaction failed: ${response.status} ${await response.text()}`);
}
