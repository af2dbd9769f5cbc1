import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../../src/postgres/embedded-server.js';
import type { ControlPlaneBinaries } from './binaries.js';
import { type CertificateFiles, makeCertificates } from './certificates.js';
import { ManagedProcess } from './managed-process.js';

export interface Etcd {
  readonly url: string;
  readonly process: ManagedProcess;
}

export async function startEtcd(binaries: ControlPlaneBinaries, workDir: string): Promise<Etcd> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const process = new ManagedProcess(
    'etcd',
    binaries.etcd,
    [
      `--data-dir=${path.join(workDir, 'etcd')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      // Test data: durability is not worth the fsync latency.
      '--unsafe-no-fsync=true',
    ],
    path.join(workDir, 'etcd.log'),
  );
  await waitUntil(process, 30_000, async () => (await fetch(`${url}/health`)).ok);
  return { url, process };
}

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  readonly process: ManagedProcess;
  /** Stops this kube-apiserver (graceful unless told otherwise). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port with the same flags; resolves once /readyz says ok. */
  restart(): Promise<void>;
}

const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** A non-loopback IPv4 address: kube-apiserver needs one to advertise (loopback is refused since 1.21). */
function advertiseAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

/**
 * Starts a kube-apiserver on `etcd` with envtest's flags (notes/real-control-plane.md §4), RBAC on and
 * service-account keys so the TokenRequest API works. Several may share one etcd, as in an HA cluster:
 * a test that restarts "the API server" starts one of its own and leaves the shared one alone.
 */
export async function startApiServer(
  binaries: ControlPlaneBinaries,
  etcd: { url: string },
  certs: CertificateFiles,
  logFile: string,
  extraArgs: readonly string[] = [],
): Promise<ApiServer> {
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const advertise = advertiseAddress();
  const args = [
    `--etcd-servers=${etcd.url}`,
    `--secure-port=${port}`,
    '--bind-address=127.0.0.1',
    ...(advertise ? [`--advertise-address=${advertise}`] : []),
    `--tls-cert-file=${certs.servingCert}`,
    `--tls-private-key-file=${certs.servingKey}`,
    `--client-ca-file=${certs.clientCa}`,
    '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    // No controller-manager creates default ServiceAccounts, so Pods could never be admitted with it.
    '--disable-admission-plugins=ServiceAccount',
    // One issuer for every API server on this etcd, as in an HA cluster: each accepts the others' tokens.
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${certs.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${certs.serviceAccountKey}`,
    ...extraArgs,
  ];
  const ca = readFileSync(certs.servingCa);
  const start = async (): Promise<ManagedProcess> => {
    const process = new ManagedProcess('kube-apiserver', binaries.kubeApiserver, args, logFile);
    await waitUntil(process, 120_000, () => readyz(port, ca));
    return process;
  };
  let process = await start();
  return {
    url,
    port,
    get process() {
      return process;
    },
    stop: (signal) => process.stop(signal),
    async restart() {
      await process.stop();
      process = await start();
    },
  };
}

function readyz(port: number, ca: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', ca, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function waitUntil(
  process: ManagedProcess,
  timeoutMs: number,
  ready: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!process.running)
      throw new Error(`${process.name} exited while starting; its log ends with:\n${process.tail()}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      await process.stop('SIGKILL');
      throw new Error(
        `${process.name} was not ready within ${timeoutMs} ms; its log ends with:\n${process.tail()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

type KubeconfigUser = { certFile: string; keyFile: string } | { token: string };

/** A kubeconfig with one cluster/user/context, in the shape envtest writes. */
export async function writeKubeconfig(
  file: string,
  server: string,
  caFile: string,
  user: KubeconfigUser,
  namespace?: string,
): Promise<string> {
  const b64 = (f: string) => readFileSync(f).toString('base64');
  const credentials =
    'token' in user
      ? { token: user.token }
      : { 'client-certificate-data': b64(user.certFile), 'client-key-data': b64(user.keyFile) };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server, 'certificate-authority-data': b64(caFile) } }],
    users: [{ name: 'test', user: credentials }],
    contexts: [
      { name: 'test', context: { cluster: 'test', user: 'test', ...(namespace ? { namespace } : {}) } },
    ],
    'current-context': 'test',
  };
  await writeFile(file, stringify(config), { mode: 0o600 });
  return file;
}

export interface ControlPlane {
  readonly etcd: Etcd;
  readonly apiServer: ApiServer;
  readonly certs: CertificateFiles;
  /** Admin (system:masters) kubeconfig. */
  readonly kubeconfig: string;
  stop(): Promise<void>;
}

/** etcd + kube-apiserver under `workDir`, with an admin kubeconfig. */
export async function startControlPlane(
  binaries: ControlPlaneBinaries,
  workDir: string,
): Promise<ControlPlane> {
  const certDir = path.join(workDir, 'certs');
  await mkdir(certDir, { recursive: true });
  const certs = await makeCertificates(certDir);
  const etcd = await startEtcd(binaries, workDir);
  let apiServer: ApiServer;
  try {
    apiServer = await startApiServer(binaries, etcd, certs, path.join(workDir, 'kube-apiserver.log'));
  } catch (error) {
    await etcd.process.stop();
    throw error;
  }
  const kubeconfig = await writeKubeconfig(
    path.join(workDir, 'admin.kubeconfig'),
    apiServer.url,
    certs.servingCa,
    {
      certFile: certs.adminCert,
      keyFile: certs.adminKey,
    },
  );
  return {
    etcd,
    apiServer,
    certs,
    kubeconfig,
    async stop() {
      await apiServer.stop();
      await etcd.process.stop();
    },
  };
}
