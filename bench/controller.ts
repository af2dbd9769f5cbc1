import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
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
import { ControllerProcess, FakeApiProcess } from './controller-processes.js';
import { benchServer, freshDatabase, printTable } from './support.js';

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
  /** Status writes and DDL statements during that resync (both must be 0). */
  readonly resyncStatusWrites: number;
  readonly resyncStatementsApplied: number;
  /** Peak RSS (VmHWM) of the controller processes; the fake API server and Postgres run apart. */
  readonly peakRssMb: number;
  /** RSS of an idle, synced controller before any provision exists: Node, tsx and the libraries. */
  readonly startedRssMb: number;
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

/** The controller container's `NODE_OPTIONS` from manifests/deployment.yaml, so the bench runs it alike. */
async function deploymentNodeOptions(): Promise<string> {
  const file = fileURLToPath(new URL('../manifests/deployment.yaml', import.meta.url));
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
 * 1,000 provisions across 50 schemas, created over HTTP on the fake API server and reconciled into a
 * real Postgres by the controller running as it does in its container (`cdm-sink controller`, a process
 * of its own, leader election on). DESIGN.md §8: converge and resync within 30 s, under 300 MB RSS.
 * Each provision holds one or two models (alternately `project` and `project + user`: 1,500 tables),
 * 20 per schema with distinct table prefixes so no names collide.
 */
export async function runControllerBench(
  options: ControllerBenchOptions = {},
): Promise<ControllerBenchResult> {
  const count = options.provisions ?? 1_000;
  const schemas = options.schemas ?? 50;
  const concurrency = options.concurrency ?? 4;
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'cdm-controller-bench-'));
  const nodeOptions = await deploymentNodeOptions();

  const server = await benchServer();
  const fake = await FakeApiProcess.start();
  const controllers: ControllerProcess[] = [];
  try {
    const url = await freshDatabase(server.url, 'cdm_controller_bench');
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'fake', server: fake.url, skipTLSVerify: true }],
      users: [{ name: 'bench', token: 'fake-token-for-bench' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'bench', namespace: NAMESPACE }],
      currentContext: 'fake',
    });
    const kubeconfigFile = path.join(workDir, 'kubeconfig');
    await writeFile(kubeconfigFile, kubeConfig.exportConfig());
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    await core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: { metadata: { name: 'bench-sink' }, data: { url: Buffer.from(url).toString('base64') } },
    });

    const first = await ControllerProcess.start({
      kubeconfig: kubeconfigFile,
      identity: 'bench-1',
      concurrency,
      leaseNamespace: NAMESPACE,
      logDir: workDir,
      nodeOptions,
    });
    controllers.push(first);
    await until(
      'the first controller to sync and lead',
      async () => {
        return (await first.ready()) && (await first.metric('leader_election_master_status')) === 1;
      },
      deadline,
    );
    const startedRssMb = await first.rssMb();

    const started = performance.now();
    for (let i = 0; i < count; i += 25) {
      const batch = Array.from({ length: Math.min(25, count - i) }, (_, j) => provision(i + j, schemas));
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
        const list = (await custom.listNamespacedCustomObject({ ...RESOURCE, namespace: NAMESPACE })) as {
          items: CdmSinkProvision[];
        };
        return list.items.length === count && list.items.every(isReadyForGeneration);
      },
      deadline,
      250,
    );
    const convergeMs = performance.now() - started;

    // Let the echoes of the last status writes arrive, then hand over as a rolling update would.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const firstPeak = await first.peakRssMb();
    const shutdownExitCode = await first.stop();

    const statusWritesBefore = (await fake.requests())['patch cdmsinkprovisions/status'] ?? 0;
    const second = await ControllerProcess.start({
      kubeconfig: kubeconfigFile,
      identity: 'bench-2',
      concurrency,
      leaseNamespace: NAMESPACE,
      logDir: workDir,
      nodeOptions,
    });
    controllers.push(second);
    await until('the second controller to sync', () => second.ready(), deadline, 20);
    const resyncStarted = performance.now();
    await until(
      'the resync to finish',
      async () => (await second.metric('controller_runtime_reconcile_total')) >= count,
      deadline,
      50,
    );
    const resyncMs = performance.now() - resyncStarted;
    const resyncStatusWrites =
      ((await fake.requests())['patch cdmsinkprovisions/status'] ?? 0) - statusWritesBefore;
    const resyncStatementsApplied = await second.metric('cdm_sink_ddl_statements_total');
    const peakRssMb = Math.max(firstPeak, await second.peakRssMb());
    await second.stop();

    const targets = { convergeMs: 30_000, resyncMs: 30_000, rssMb: 300 };
    return {
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
    throw new Error(`controller bench failed; controller logs are in ${workDir}`, { cause: error });
  } finally {
    for (const controller of controllers) await controller.stop();
    await fake.close();
    await server.stop();
  }
}

export function printControllerBench(result: ControllerBenchResult): void {
  printTable(
    `controller: ${result.provisions} provisions, ${result.schemas} schemas, ${result.tables} tables, concurrency ${result.concurrency}`,
    [
      {
        measure: 'converge to all Ready',
        value: `${result.convergeMs} ms`,
        target: `≤ ${result.targets.convergeMs} ms`,
      },
      {
        measure: 'full resync, nothing to do',
        value: `${result.resyncMs} ms`,
        target: `≤ ${result.targets.resyncMs} ms`,
      },
      { measure: 'status writes during resync', value: result.resyncStatusWrites, target: '0' },
      { measure: 'DDL during resync', value: result.resyncStatementsApplied, target: '0' },
      {
        measure: 'peak RSS, controller process',
        value: `${result.peakRssMb} MB`,
        target: `≤ ${result.targets.rssMb} MB`,
      },
      { measure: 'RSS when started, no provisions', value: `${result.startedRssMb} MB`, target: '' },
      { measure: 'exit code after SIGTERM', value: String(result.shutdownExitCode), target: '0' },
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
