import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { API_GROUP, PLURAL } from '../src/api/types.js';
import { controlPlaneBinaries } from '../test/support/control-plane/binaries.js';
import type { CertificateFiles } from '../test/support/control-plane/certificates.js';
import { startControlPlane } from '../test/support/control-plane/control-plane.js';
import { FakeApiProcess } from './controller-processes.js';

/** The API servers the controller benchmark runs its one scenario against. */
export type ApiServerKind = 'fake' | 'real';

/** Requests served, by `verb resource[/subresource]`, with the fake's verbs (`create`, `patch`, `list`…). */
export type RequestCounts = Record<string, number>;

export interface BenchApiServer {
  readonly kind: ApiServerKind;
  /** What the bench's own clients and the controller processes connect with. */
  readonly kubeconfig: string;
  /** Cumulative counts since the server started; callers take deltas. */
  requests(): Promise<RequestCounts>;
  /** The processes serving the API (the fake; kube-apiserver and etcd), for their CPU time. */
  readonly pids: readonly (number | undefined)[];
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CRD_FILE = path.join(ROOT, 'crds/cdm.nucleus.io_cdmsinkprovisions.yaml');

export function startBenchApiServer(kind: ApiServerKind, workDir: string): Promise<BenchApiServer> {
  return kind === 'fake' ? startFake(workDir) : startReal(workDir);
}

async function startFake(workDir: string): Promise<BenchApiServer> {
  const fake = await FakeApiProcess.start();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: fake.url, skipTLSVerify: true }],
    users: [{ name: 'bench', token: 'fake-token-for-bench' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'bench' }],
    currentContext: 'fake',
  });
  const kubeconfig = path.join(workDir, 'kubeconfig');
  await writeFile(kubeconfig, kubeConfig.exportConfig());
  return {
    kind: 'fake',
    kubeconfig,
    requests: () => fake.requests(),
    pids: [fake.pid],
    stop: () => fake.close(),
  };
}

/**
 * etcd + kube-apiserver from test/support/control-plane with the CRD installed as a user would. Its
 * logs and etcd data stay in `workDir/control-plane`.
 */
async function startReal(workDir: string): Promise<BenchApiServer> {
  const binaries = await controlPlaneBinaries();
  const plane = await startControlPlane(binaries, path.join(workDir, 'control-plane'));
  try {
    const kubectl = (...args: string[]) =>
      promisify(execFile)(binaries.kubectl, [`--kubeconfig=${plane.kubeconfig}`, ...args], { cwd: ROOT });
    await kubectl('apply', '--server-side', '-f', CRD_FILE);
    await kubectl('wait', '--for=condition=Established', '--timeout=60s', `crd/${PLURAL}.${API_GROUP}`);
    const tls = await clientTls(plane.certs);
    return {
      kind: 'real',
      kubeconfig: plane.kubeconfig,
      requests: async () => requestCounts(await scrape(plane.apiServer.port, tls)),
      pids: [plane.apiServer.process.pid, plane.etcd.process.pid],
      stop: () => plane.stop(),
    };
  } catch (error) {
    await plane.stop();
    throw error;
  }
}

interface ClientTls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

async function clientTls(certs: CertificateFiles): Promise<ClientTls> {
  const [ca, cert, key] = await Promise.all(
    [certs.servingCa, certs.adminCert, certs.adminKey].map((file) => readFile(file)),
  );
  return { ca: ca!, cert: cert!, key: key! };
}

/** `/metrics` needs an authorised identity with RBAC on; the admin's client certificate is one. */
function scrape(port: number, tls: ClientTls): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', ...tls, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(body)
          : reject(new Error(`kube-apiserver /metrics answered ${res.statusCode}: ${body.slice(0, 200)}`)),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('kube-apiserver /metrics timed out')));
    req.end();
  });
}

// The metric names HTTP methods (and APPLY for server-side apply); the fake names RequestInfo verbs.
const METRIC_VERBS: Record<string, string> = { POST: 'create', PUT: 'update' };

/**
 * `apiserver_request_total` summed over response codes, keyed like the fake's counts. Requests are
 * counted when they finish, so a WATCH shows up only once it has closed.
 */
export function requestCounts(metrics: string): RequestCounts {
  const counts: RequestCounts = {};
  for (const [, labelText = '', value = '0'] of metrics.matchAll(
    /^apiserver_request_total\{([^}]*)\} (\S+)$/gm,
  )) {
    const labels = Object.fromEntries(
      [...labelText.matchAll(/(\w+)="([^"]*)"/g)].map(([, name, text]) => [name, text]),
    );
    if (!labels.resource) continue;
    const verb = METRIC_VERBS[labels.verb ?? ''] ?? (labels.verb ?? '').toLowerCase();
    const key = `${verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
    counts[key] = (counts[key] ?? 0) + Number(value);
  }
  return counts;
}
