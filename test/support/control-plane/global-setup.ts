import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { controlPlaneBinaries } from './binaries.js';
import type { CertificateFiles } from './certificates.js';
import { startControlPlane } from './control-plane.js';

/** What every cluster test file gets through `inject('controlPlane')`. */
export interface ControlPlaneContext {
  /** Admin (system:masters) kubeconfig. */
  readonly kubeconfig: string;
  readonly server: string;
  readonly etcdUrl: string;
  readonly binaries: { dir: string; kubeApiserver: string; etcd: string; kubectl: string };
  readonly certs: CertificateFiles;
  /** Scratch space of this run (logs, kubeconfigs); removed at the end. */
  readonly workDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlane: ControlPlaneContext;
  }
}

/**
 * One etcd + kube-apiserver for the whole run of the cluster project (notes/real-control-plane.md),
 * built from Go modules first when the cache is empty.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const binaries = await controlPlaneBinaries();
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-control-plane-'));
  const started = Date.now();
  const plane = await startControlPlane(binaries, workDir);
  process.stderr.write(
    `control plane: kube-apiserver ${plane.apiServer.url} ready in ${Date.now() - started} ms (logs in ${workDir})\n`,
  );
  project.provide('controlPlane', {
    kubeconfig: plane.kubeconfig,
    server: plane.apiServer.url,
    etcdUrl: plane.etcd.url,
    binaries,
    certs: plane.certs,
    workDir,
  });
  return async () => {
    await plane.stop();
    await rm(workDir, { recursive: true, force: true });
  };
}
