import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CoreV1Event, KubernetesObject } from '@kubernetes/client-node';
import { API_GROUP_VERSION, type CdmSinkProvision, KIND } from '../../src/api/types.js';
import { createLogger } from '../../src/controller/logger.js';
import {
  type RunningController,
  type StartControllerOptions,
  startController,
} from '../../src/controller/start-controller.js';
import { createPoolProvider } from '../../src/reconcile/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { type FakeApiServer, startFakeApiServer } from '../support/fake-apiserver/index.js';
import { condition } from '../support/provision-fixture.js';

export { condition };

export const CRD_PATH = fileURLToPath(
  new URL('../../crds/cdm.nucleus.io_cdmsinkprovisions.yaml', import.meta.url),
);
export const NAMESPACE = 'data-platform';
export const LEASE = { leaseName: 'cdm-sink-controller', leaseNamespace: 'cdm-sink-system' };

/** Short timings so failures, backoff, resync and failover happen within a test's patience. */
export const FAST: Partial<StartControllerOptions> = {
  concurrency: 4,
  resyncPeriodMs: 60_000,
  healthPort: 0,
  metricsPort: 0,
  bindAddress: '127.0.0.1',
  rateLimiter: { baseMs: 50, capMs: 1_000, qps: 1_000, burst: 1_000 },
  informer: { watchdogMs: 1_500, restartBaseMs: 50, restartCapMs: 500, watchTimeoutSeconds: 300 },
  shutdownTimeoutMs: 10_000,
  advisoryLockTimeoutMs: 5_000,
};

/** Polls until `check` returns a value (not undefined/false); a timeout fails with `what`. */
export async function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 20_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * `kubectl wait --for=condition=Ready` semantics, from status alone: the condition is True and was
 * computed for the current generation (kubectl/pkg/cmd/wait/condition.go).
 */
export function isReadyForGeneration(p: CdmSinkProvision | undefined): boolean {
  const ready = condition(p, 'Ready');
  const observed = ready?.observedGeneration ?? p?.status?.observedGeneration;
  return ready?.status === 'True' && observed !== undefined && observed >= (p?.metadata.generation ?? 0);
}

export function aSinkProvision(
  name: string,
  spec: { schema: string; tablePrefix?: string; models?: string[]; secret?: string } & Partial<
    Pick<CdmSinkProvision['spec'], 'deletionPolicy' | 'suspend'>
  > & { drift?: 'Correct' | 'Report' },
): CdmSinkProvision {
  return {
    apiVersion: API_GROUP_VERSION,
    kind: KIND,
    metadata: { name, namespace: NAMESPACE },
    spec: {
      endpoint: {
        templateId: 'cdm.jdbc',
        connection: { secretRef: { name: spec.secret ?? `${name}-sink`, key: 'url' } },
        schema: spec.schema,
        tablePrefix: spec.tablePrefix ?? 'cdm_',
      },
      models: spec.models ?? ['cdm.work.project'],
      catalog: { register: true, domain: 'cdm.work' },
      policy: { lockTimeout: '5s', drift: spec.drift ?? 'Correct', adopt: false },
      deletionPolicy: spec.deletionPolicy ?? 'Retain',
      suspend: spec.suspend ?? false,
    },
  };
}

/** A fake API server, a database of its own, and controllers whose log lines are captured. */
export class ControllerEnv {
  readonly logLines: string[] = [];
  readonly controllers: RunningController[] = [];
  readonly pools = createPoolProvider({ max: 8 });

  private constructor(
    readonly api: FakeApiServer,
    readonly db: TestDatabase,
  ) {}

  static async create(
    options: { bookmarkIntervalMs?: number; historyLimit?: number } = {},
  ): Promise<ControllerEnv> {
    const api = await startFakeApiServer({
      crds: [CRD_PATH],
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 250,
      historyLimit: options.historyLimit,
    });
    const db = await createTestDatabase('ctl');
    const env = new ControllerEnv(api, db);
    env.api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    env.api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: LEASE.leaseNamespace } });
    return env;
  }

  async start(identity: string, options: Partial<StartControllerOptions> = {}): Promise<RunningController> {
    const destination = new Writable({
      write: (chunk, _encoding, done) => {
        this.logLines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const controller = await startController({
      // One user per replica, so the API server's request log tells their writes apart.
      kubeConfig: this.api.kubeConfig({ user: identity }),
      identity,
      logger: createLogger({ level: 'debug', destination }),
      pools: this.pools,
      ...FAST,
      ...options,
    });
    this.controllers.push(controller);
    return controller;
  }

  secret(name: string, url: string, namespace = NAMESPACE): void {
    const data = { url: Buffer.from(url).toString('base64') };
    const existing = this.api.get('v1', 'Secret', namespace, name);
    if (existing) this.api.update({ ...existing, data } as KubernetesObject);
    else
      this.api.create({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace },
        data,
      } as KubernetesObject);
  }

  // Our CR type spells timestamps as the strings the wire carries; client-node's KubernetesObject says Date.
  createProvision(provision: CdmSinkProvision): void {
    this.api.create(provision as unknown as KubernetesObject);
  }

  updateProvision(provision: CdmSinkProvision): void {
    this.api.update(provision as unknown as KubernetesObject);
  }

  updateProvisionStatus(provision: CdmSinkProvision): void {
    this.api.updateStatus(provision as unknown as KubernetesObject);
  }

  provision(name: string, namespace = NAMESPACE): CdmSinkProvision | undefined {
    return this.api.get(API_GROUP_VERSION, KIND, namespace, name) as CdmSinkProvision | undefined;
  }

  async waitReady(name: string, timeoutMs?: number): Promise<CdmSinkProvision> {
    return eventually(
      `${name} Ready for its generation`,
      () => {
        const p = this.provision(name);
        return isReadyForGeneration(p) ? p : undefined;
      },
      timeoutMs,
    );
  }

  async tables(schema: string): Promise<string[]> {
    const { rows } = await this.db.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
      [schema],
    );
    return rows.map((r) => r.table_name);
  }

  async datasets(sinkEndpointId: string): Promise<Array<{ dataset_id: string; status: string }>> {
    const { rows } = await this.db.pool.query<{ dataset_id: string; status: string }>(
      `SELECT dataset_id, status FROM catalog.dataset WHERE sink_endpoint_id = $1 ORDER BY 1`,
      [sinkEndpointId],
    );
    return rows;
  }

  /** Core/v1 Events recorded about `name`. */
  events(name: string): Array<Pick<CoreV1Event, 'type' | 'reason' | 'message' | 'count'>> {
    return (this.api.list('v1', 'Event', NAMESPACE) as CoreV1Event[])
      .filter((e) => e.involvedObject?.name === name)
      .map(({ type, reason, message, count }) => ({ type, reason, message, count }));
  }

  async close(): Promise<void> {
    await Promise.all(this.controllers.map((c) => c.stop()));
    await this.pools.end();
    await this.api.close();
    await this.db.drop();
  }
}
