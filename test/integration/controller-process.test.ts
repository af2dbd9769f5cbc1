import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1Lease } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControllerProcess } from '../support/controller-process.js';
import { type FakeApiServer, startFakeApiServer } from '../support/fake-apiserver/index.js';
import { CRD_PATH, eventually, LEASE } from './controller-env.js';

const THROW_LATER = fileURLToPath(new URL('../support/throw-later.mjs', import.meta.url));

/** The last-resort policy, in a real `cdm-sink controller` process. */
describe('the controller process after an error nobody handled', () => {
  let api: FakeApiServer;
  let dir: string;
  let kubeconfig: string;
  beforeAll(async () => {
    api = await startFakeApiServer({ crds: [CRD_PATH] });
    api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: LEASE.leaseNamespace } });
    dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-process-'));
    kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(kubeconfig, api.kubeConfig({ user: 'crashing' }).exportConfig());
  });
  afterAll(async () => {
    await api?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const lease = () =>
    api.get('coordination.k8s.io/v1', 'Lease', LEASE.leaseNamespace, 'crash') as V1Lease | undefined;

  it('logs it, releases the lease and exits 1', async () => {
    const controller = new ControllerProcess({
      kubeconfig,
      identity: 'crash-a',
      leaseName: 'crash',
      leaseNamespace: LEASE.leaseNamespace,
      nodeArgs: ['--import', THROW_LATER],
      env: { CDM_TEST_THROW_AFTER_MS: '6000' },
    });
    try {
      await eventually('crash-a leads', () => lease()?.spec?.holderIdentity === 'crash-a', 15_000);
      const code = await controller.exited;
      expect(code).toBe(1);
      const fatal = controller.logged(/uncaught exception/);
      expect(fatal?.level).toBe(60);
      expect(JSON.stringify(fatal)).toContain('injected bug');
      expect(controller.logged(/released the lease/)).toBeDefined();
      expect(lease()?.spec?.holderIdentity).toBe('');
      expect(JSON.stringify(controller.lines)).not.toContain('hunter2');
    } finally {
      await controller.stop('SIGKILL');
    }
  }, 30_000);
});
