import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import {
  API_GROUP,
  API_GROUP_VERSION,
  API_VERSION,
  type CdmSinkProvision,
  KIND,
  PLURAL,
} from '../src/api/types.js';
import {
  type ApiServerKind,
  type BenchApiServer,
  type RequestCounts,
  startBenchApiServer,
} from './controller-apiservers.js';
import { ControllerProcess } from './controller-processes.js';
import { benchServer, cpuSeconds, dropDatabase, freshDatabase, printTable } from './support.js';

export interface ControllerBenchOptions {
  /** Provisions in all (default 1,000). */
  readonly provisions?: number;
  /** Schemas they spread over (default 50, so 20 per schema with distinct table prefixes). */
  readonly schemas?: number;
  /** Controller `--concurrency` (default 4, the shipped default). */
  readonly concurrency?: number;
  /** Give up after this long (default 10 min). */
  readonly timeoutMs?: number;
}

export interface ControllerBenchResult {
  /** `fake`: test/support/fake-apiserver; `real`: kube-apiserver + etcd from test/support/control-plane. */
  readonly apiServer: ApiServerKind;
  readonly provisions: number;
  readonly schemas: number;
  readonly tables: number;
  readonly modelsPerProvision: string;
  readonly concurrency: number;
  /** From the first CR created (over HTTP) until every CR is Ready for its generation. */
  readonly convergeMs: number;
  /**
   * A full resync with nothing to change: a fresh controller process takes over the 1,000 Ready
   * provisions and reconciles each once; measured from its informer sync to the last reconcile.
   */
  readonly resyncMs: number;
  /** Status writes (PATCH cdmsinkprovisions/status) and DDL statements during that resync (both must be 0). */
  readonly resyncStatusWrites: number;
  readonly resyncStatementsApplied: number;
  /** Peak RSS (VmHWM) of the controller processes; the fake API server and Postgres run apart. */
  readonly peakRssMb: number;
  /** RSS of an idle, synced controller before any provision exists: Node, tsx and the libraries. */
  readonly startedRssMb: number;
  /**
   * The controller's requests for provisions, Secrets and Events while converging (from the first
   * create to all Ready; the bench's own creates and lists left out), per provision.
   */
  readonly apiRequestsPerProvision: number;
  /** The same during the resync, from the second controller's start (its initial list included). */
  readonly resyncApiRequestsPerProvision: number;
  /**
   * CPU seconds used while converging by the controller process and by the API server's own processes
   * (the fake; kube-apiserver + etcd): on 2 cores shared with Postgres they explain the difference in
   * convergence time between the two servers better than any guess.
   */
  readonly convergeCpuSeconds: { readonly controller: number; readonly apiServer: number };
  /** Those requests by `verb resource[/subresource]`. */
  readonly apiRequests: { readonly converge: RequestCounts; readonly resync: RequestCounts };
  /** Exit code of the first controller after SIGTERM (0: graceful shutdown). */
  readonly shutdownExitCode: number | null;
  readonly targets: { readonly convergeMs: number; readonly resyncMs: number; readonly rssMb: number };
  readonly met: boolean;
}

const NAMESPACE = 'bench';
const MODEL_SETS = [['cdm.work.project'], ['cdm.work.project', 'cdm.work.user']];
const RESOURCE = { group: API_GROUP, version: API_VERSION, plural: PLURAL };

function provision(i: number, schemas: number): CdmSinkProvision {
  const slot = Math.floor(i / schemas);
  return {
    apiVersion: API_GROUP_VERSION,
    kind: KIND,
    metadata: { name: `p${String(i).padStart(4, '0')}`, namespace: NAMESPACE },
    spec: {
      endpoint: {
        templateId: 'cdm.jdbc',
        connection: { secretRef: { name: 'bench-sink', key: 'url' } },
        schema: `cdm_bench_${String(i % schemas).padStart(2, '0')}`,
        tablePrefix: `p${String(slot).padStart(2, '0')}_`,
      },
      models: MODEL_SETS[i % MODEL_SETS.length]!,
      catalog: { register: true, domain: 'cdm.work' },
      policy: { lockTimeout: '5s', drift: 'Correct', adopt: false },
      deletionPolicy: 'Retain',
      suspend: false,
    },
  };
}

async function until(what: string, check: () => Promise<boolean> | boolean, deadline: number, everyMs = 100) {
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`controller bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The controller container's `NODE_OPTIONS` from manifests/base/deployment.yaml, so the bench runs it alike. */
async function deploymentNodeOptions(): Promise<string> {
  const file = fileURLToPath(new URL('../manifests/base/deployment.yaml', import.meta.url));
  const deployment = parse(await readFile(file, 'utf8')) as {
    spec: { template: { spec: { containers: Array<{ env?: Array<{ name: string; value?: string }> }> } } };
  };
  const env = deployment.spec.template.spec.containers[0]?.env ?? [];
  return env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
}

function isReadyForGeneration(p: CdmSinkProvision): boolean {
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True' && ready.observedGeneration === p.metadata.generation;
}

/**
 * Leader-election Leases are left out: their traffic follows the clock, not the provisions, and on the
 * real server the kube-apiserver renews its own identity Lease every 10 s in the same metric series.
 */
const COUNTED_RESOURCES = new Set(['cdmsinkprovisions', 'secrets', 'events']);

/** What the controller asked of the API server between two snapshots, less what the bench itself asked. */
function controllerRequests(
  before: RequestCounts,
  after: RequestCounts,
  own: RequestCounts = {},
): RequestCounts {
  const delta: RequestCounts = {};
  for (const [key, total] of Object.entries(after)) {
    if (!COUNTED_RESOURCES.has(key.split(' ')[1]!.split('/')[0]!)) continue;
    const n = total - (before[key] ?? 0) - (own[key] ?? 0);
    if (n !== 0) delta[key] = n;
  }
  return Object.fromEntries(Object.entries(delta).sort(([a], [b]) => a.localeCompare(b)));
}

const sum = (counts: RequestCounts) => Object.values(counts).reduce((a, b) => a + b, 0);
const perProvision = (counts: RequestCounts, provisions: number) =>
  Math.round((sum(counts) / provisions) * 100) / 100;

/**
 * 1,000 provisions across 50 schemas, created over HTTP on `apiServer` and reconciled into a real
 * Postgres by the controller running as it does in its container (`cdm-sink controller`, a process of
 * its own, leader election on). DESIGN.md §8: converge and resync within 30 s, under 300 MB RSS.
 * Each provision holds one or two models (alternately `project` and `project + user`: 1,500 tables),
 * 20 per schema with distinct table prefixes so no names collide.
 */
export async function runControllerScenario(
  apiServer: ApiServerKind,
  options: ControllerBenchOptions = {},
): Promise<ControllerBenchResult> {
  const count = options.provisions ?? 1_000;
  const schemas = options.schemas ?? 50;
  const concurrency = options.concurrency ?? 4;
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  const workDir = await mkdtemp(path.join(os.tmpdir(), `cdm-controller-bench-${apiServer}-`));
  const nodeOptions = await deploymentNodeOptions();
  const database = 'cdm_controller_bench';

  // Undone last first, whatever stage a failure stops at.
  const cleanups: Array<() => Promise<unknown>> = [];
  let failed = false;
  try {
    const server = await benchServer();
    cleanups.push(() => server.stop());
    const url = await freshDatabase(server.url, database);
    // An embedded server takes its databases with it; a BENCH_DATABASE_URL server must not keep ours.
    cleanups.push(() => dropDatabase(server.url, database));
    const api: BenchApiServer = await startBenchApiServer(apiServer, workDir);
    cleanups.push(() => api.stop());

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(api.kubeconfig);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: { metadata: { name: 'bench-sink' }, data: { url: Buffer.from(url).toString('base64') } },
    });
    const startController = async (identity: string) => {
      const controller = await ControllerProcess.start({
        kubeconfig: api.kubeconfig,
        identity,
        concurrency,
        leaseNamespace: NAMESPACE,
        logDir: workDir,
        nodeOptions,
      });
      cleanups.push(() => controller.stop());
      return controller;
    };

    const first = await startController('bench-1');
    await until(
      'the first controller to sync and lead',
      async () => {
        return (await first.ready()) && (await first.metric('leader_election_master_status')) === 1;
      },
      deadline,
    );
    const startedRssMb = await first.rssMb();

    // The server cannot tell the bench's requests from the controller's, so the bench counts its own.
    const own: RequestCounts = { 'create cdmsinkprovisions': 0, 'list cdmsinkprovisions': 0 };
    const convergeBefore = await api.requests();
    const serverCpu = async () => (await Promise.all(api.pids.map(cpuSeconds))).reduce((a, b) => a + b, 0);
    const cpuBefore = { controller: await cpuSeconds(first.pid), apiServer: await serverCpu() };
    const started = performance.now();
    for (let i = 0; i < count; i += 25) {
      const batch = Array.from({ length: Math.min(25, count - i) }, (_, j) => provision(i + j, schemas));
      own['create cdmsinkprovisions']! += batch.length;
      await Promise.all(
        batch.map((body) => custom.createNamespacedCustomObject({ ...RESOURCE, namespace: NAMESPACE, body })),
      );
    }
    await until(
      'every provision Ready',
      async () => (await first.metric('cdm_sink_provision_ready')) >= count,
      deadline,
      250,
    );
    await until(
      'every provision Ready in the API',
      async () => {
        own['list cdmsinkprovisions']! += 1;
        const list = (await custom.listNamespacedCustomObject({ ...RESOURCE, namespace: NAMESPACE })) as {
          items: CdmSinkProvision[];
        };
        return list.items.length === count && list.items.every(isReadyForGeneration);
      },
      deadline,
      250,
    );
    const convergeMs = performance.now() - started;
    const convergeCpuSeconds = {
      controller: Math.round((await cpuSeconds(first.pid)) - cpuBefore.controller),
      apiServer: Math.round((await serverCpu()) - cpuBefore.apiServer),
    };
    const convergeRequests = controllerRequests(convergeBefore, await api.requests(), own);

    // Let the echoes of the last status writes arrive, then hand over as a rolling update would.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const firstPeak = await first.peakRssMb();
    const shutdownExitCode = await first.stop();

    const resyncBefore = await api.requests();
    const second = await startController('bench-2');
    await until('the second controller to sync', () => second.ready(), deadline, 20);
    const resyncStarted = performance.now();
    await until(
      'the resync to finish',
      async () => (await second.metric('controller_runtime_reconcile_total')) >= count,
      deadline,
      50,
    );
    const resyncMs = performance.now() - resyncStarted;
    const resyncRequests = controllerRequests(resyncBefore, await api.requests());
    const resyncStatusWrites = resyncRequests['patch cdmsinkprovisions/status'] ?? 0;
    const resyncStatementsApplied = await second.metric('cdm_sink_ddl_statements_total');
    const peakRssMb = Math.max(firstPeak, await second.peakRssMb());
    await second.stop();

    const targets = { convergeMs: 30_000, resyncMs: 30_000, rssMb: 300 };
    return {
      apiServer,
      provisions: count,
      schemas,
      tables: count + Math.floor(count / MODEL_SETS.length),
      modelsPerProvision: MODEL_SETS.map((m) => m.length).join(' or '),
      concurrency,
      convergeMs: Math.round(convergeMs),
      resyncMs: Math.round(resyncMs),
      resyncStatusWrites,
      resyncStatementsApplied,
      peakRssMb,
      startedRssMb,
      apiRequestsPerProvision: perProvision(convergeRequests, count),
      resyncApiRequestsPerProvision: perProvision(resyncRequests, count),
      apiRequests: { converge: convergeRequests, resync: resyncRequests },
      convergeCpuSeconds,
      shutdownExitCode,
      targets,
      met:
        convergeMs <= targets.convergeMs &&
        resyncMs <= targets.resyncMs &&
        peakRssMb <= targets.rssMb &&
        resyncStatusWrites === 0 &&
        resyncStatementsApplied === 0,
    };
  } catch (error) {
    failed = true;
    throw new Error(`controller bench (${apiServer} API server) failed; logs are in ${workDir}`, {
      cause: error,
    });
  } finally {
    for (const cleanup of cleanups.reverse()) {
      // One failed stop must not leave the rest running.
      await cleanup().catch((error: unknown) => {
        failed = true;
        process.stderr.write(`controller bench (${apiServer}): cleanup failed: ${String(error)}\n`);
      });
    }
    // etcd's data is sizeable and the logs only matter when something went wrong.
    if (!failed) await rm(workDir, { recursive: true, force: true });
  }
}

export interface ControllerBenchResults {
  readonly fake: ControllerBenchResult;
  readonly real: ControllerBenchResult;
}

/** The same scenario on the fake API server, then on kube-apiserver + etcd (never both at once: 2 cores). */
export async function runControllerBench(
  options: ControllerBenchOptions = {},
): Promise<ControllerBenchResults> {
  const fake = await runControllerScenario('fake', options);
  const real = await runControllerScenario('real', options);
  return { fake, real };
}

export function printControllerBench({ fake, real }: ControllerBenchResults): void {
  const row = (
    measure: string,
    value: (r: ControllerBenchResult) => string | number | null,
    target: string,
  ) => ({ measure, fake: String(value(fake)), real: String(value(real)), target });
  printTable(
    `controller: ${fake.provisions} provisions, ${fake.schemas} schemas, ${fake.tables} tables, concurrency ${fake.concurrency}; fake API server vs kube-apiserver + etcd`,
    [
      row('converge to all Ready', (r) => `${r.convergeMs} ms`, `≤ ${fake.targets.convergeMs} ms`),
      row('full resync, nothing to do', (r) => `${r.resyncMs} ms`, `≤ ${fake.targets.resyncMs} ms`),
      row('status writes during resync', (r) => r.resyncStatusWrites, '0'),
      row('DDL during resync', (r) => r.resyncStatementsApplied, '0'),
      row('API requests per provision, converge', (r) => r.apiRequestsPerProvision, ''),
      row('API requests per provision, resync', (r) => r.resyncApiRequestsPerProvision, ''),
      row('CPU while converging: controller', (r) => `${r.convergeCpuSeconds.controller} s`, ''),
      row('CPU while converging: API server', (r) => `${r.convergeCpuSeconds.apiServer} s`, ''),
      row('peak RSS, controller process', (r) => `${r.peakRssMb} MB`, `≤ ${fake.targets.rssMb} MB`),
      row('RSS when started, no provisions', (r) => `${r.startedRssMb} MB`, ''),
      row('exit code after SIGTERM', (r) => r.shutdownExitCode, '0'),
      row('targets met', (r) => (r.met ? 'yes' : 'no'), ''),
    ],
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const provisions = Number(process.env.BENCH_PROVISIONS ?? 1_000);
  const result = await runControllerBench({
    provisions,
    schemas: Math.max(1, Math.round(provisions / 20)),
    concurrency: Number(process.env.BENCH_CONCURRENCY ?? 4),
  });
  printControllerBench(result);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}
