import type pg from 'pg';
import type { CdmSinkProvision } from '../src/api/types.js';
import { createPoolProvider, type PoolProvider, reconcile } from '../src/reconcile/index.js';
import { benchServer, freshDatabase, percentile, printTable } from './support.js';

const PROVISION: CdmSinkProvision = {
  apiVersion: 'cdm.nucleus.io/v1alpha1',
  kind: 'CdmSinkProvision',
  metadata: { name: 'bench', namespace: 'bench', generation: 1 },
  spec: {
    endpoint: {
      templateId: 'cdm.jdbc',
      connection: { secretRef: { name: 's', key: 'url' } },
      schema: 'cdm_work',
      tablePrefix: 'cdm_',
    },
    models: ['cdm.work.project', 'cdm.work.user', 'cdm.work.item', 'cdm.work.comment', 'cdm.work.worklog'],
    catalog: { register: true, domain: 'cdm.work' },
    policy: { lockTimeout: '5s', drift: 'Correct', adopt: false },
    deletionPolicy: 'Retain',
    suspend: false,
  },
};

/** Wraps `target` so each `query` call bumps `counter.count`; `connect` hands out wrapped clients too. */
function counted<T extends object>(target: T, counter: { count: number }): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop === 'query') {
        return (...args: unknown[]) => {
          counter.count += 1;
          return value.apply(obj, args);
        };
      }
      if (prop === 'connect') return async () => counted(await value.apply(obj), counter);
      return value.bind(obj);
    },
  });
}

/** Counts every statement sent through the pools it hands out: the round trips of a reconcile. */
function countingPools(inner: PoolProvider): PoolProvider & { count: number } {
  const counter = {
    count: 0,
    get: (url: string): pg.Pool => counted(inner.get(url), counter),
    end: () => inner.end(),
  };
  return counter;
}

export interface ReconcileBenchResult {
  firstProvisioningMs: { runs: number; p50: number; max: number; statements: number };
  noopReconcile: {
    runs: number;
    roundTrips: number;
    ddlStatements: number;
    p50Ms: number;
    p95Ms: number;
    maxMs: number;
  };
}

/** First provisioning of all five models, then no-op reconciles of the same provision. */
export async function runReconcileBench(
  options: { noopRuns?: number; firstRuns?: number } = {},
): Promise<ReconcileBenchResult> {
  const server = await benchServer();
  const pools = countingPools(createPoolProvider());
  try {
    const firstTimes: number[] = [];
    let statements = 0;
    let url = '';
    for (let i = 0; i < (options.firstRuns ?? 5); i += 1) {
      url = await freshDatabase(server.url, `bench_reconcile_${i}`);
      const deps = { resolveDatabaseUrl: async () => url, pools, now: () => new Date() };
      const started = performance.now();
      const outcome = await reconcile(PROVISION, deps);
      firstTimes.push(performance.now() - started);
      if (!outcome.ready) throw new Error(`first provisioning failed: ${outcome.error?.message}`);
      statements = outcome.statementsApplied;
    }
    const deps = { resolveDatabaseUrl: async () => url, pools, now: () => new Date() };
    let status = (await reconcile(PROVISION, deps)).status;
    const times: number[] = [];
    let roundTrips = 0;
    let ddl = 0;
    for (let i = 0; i < (options.noopRuns ?? 200); i += 1) {
      const before = pools.count;
      const started = performance.now();
      const outcome = await reconcile({ ...PROVISION, status }, deps);
      times.push(performance.now() - started);
      roundTrips = Math.max(roundTrips, pools.count - before);
      ddl += outcome.statementsApplied;
      status = outcome.status;
    }
    times.sort((a, b) => a - b);
    firstTimes.sort((a, b) => a - b);
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      firstProvisioningMs: {
        runs: firstTimes.length,
        p50: round(percentile(firstTimes, 50)),
        max: round(firstTimes.at(-1)!),
        statements,
      },
      noopReconcile: {
        runs: times.length,
        roundTrips,
        ddlStatements: ddl,
        p50Ms: round(percentile(times, 50)),
        p95Ms: round(percentile(times, 95)),
        maxMs: round(times.at(-1)!),
      },
    };
  } finally {
    await pools.end();
    await server.stop();
  }
}

export function printReconcileBench(result: ReconcileBenchResult): void {
  printTable('reconcile (all five models)', [
    { measure: 'first provisioning p50 (ms)', value: result.firstProvisioningMs.p50, target: '-' },
    { measure: 'first provisioning statements', value: result.firstProvisioningMs.statements, target: '-' },
    { measure: 'no-op reconcile round trips', value: result.noopReconcile.roundTrips, target: '<= 3' },
    { measure: 'no-op reconcile DDL statements', value: result.noopReconcile.ddlStatements, target: '0' },
    { measure: 'no-op reconcile p50 (ms)', value: result.noopReconcile.p50Ms, target: '< 15' },
    { measure: 'no-op reconcile p95 (ms)', value: result.noopReconcile.p95Ms, target: '-' },
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runReconcileBench();
  printReconcileBench(result);
  process.stdout.write(`${JSON.stringify({ reconcile: result }, null, 2)}\n`);
  process.exit(0);
}
