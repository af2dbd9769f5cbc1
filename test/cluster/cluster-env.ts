import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { inject } from 'vitest';
import { API_GROUP, API_VERSION, type CdmSinkProvision, PLURAL } from '../../src/api/types.js';
import { aSinkProvision, eventually } from '../integration/controller-env.js';
import { REPO } from '../support/cli.js';
import { writeKubeconfig } from '../support/control-plane/control-plane.js';
import type { ControlPlaneContext } from '../support/control-plane/global-setup.js';
import { ControllerProcess } from '../support/controller-process.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

export { eventually, isReadyForGeneration } from '../integration/controller-env.js';
export type { ControllerProcess } from '../support/controller-process.js';

/** The shipped install: namespace, ServiceAccount and Lease namespace of the controller. */
export const SYSTEM_NAMESPACE = 'cdm-sink-system';
export const SERVICE_ACCOUNT = 'cdm-sink-controller';
export const CRD_NAME = `${PLURAL}.${API_GROUP}`;

export function controlPlane(): ControlPlaneContext {
  return inject('controlPlane');
}

export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(controlPlane().kubeconfig);
  return kc;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The built kubectl, as the admin unless another kubeconfig is given. */
export function kubectl(
  args: readonly string[],
  options: { input?: string; kubeconfig?: string } = {},
): Promise<KubectlResult> {
  const { binaries, kubeconfig } = controlPlane();
  return new Promise((resolve) => {
    const child = execFile(
      binaries.kubectl,
      [`--kubeconfig=${options.kubeconfig ?? kubeconfig}`, ...args],
      { cwd: REPO, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input);
  });
}

/** The helm built from Go modules (scripts/tools/build-helm.sh), run in the repository. */
export function helm(args: readonly string[]): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile(
      inject('tools').helm,
      args,
      { cwd: REPO, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export async function helmOk(args: readonly string[]): Promise<string> {
  const result = await helm(args);
  if (result.code !== 0)
    throw new Error(`helm ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** kubectl that must succeed; its failure message is the test's. */
export async function kubectlOk(
  args: readonly string[],
  options: { input?: string; kubeconfig?: string } = {},
) {
  const result = await kubectl(args, options);
  if (result.code !== 0)
    throw new Error(`kubectl ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** `kubectl wait` for a provision's Ready condition (60 s at most). */
export function waitReady(namespace: string, name: string): Promise<KubectlResult> {
  return kubectl(['wait', `cdmsink/${name}`, '-n', namespace, '--for=condition=Ready', '--timeout=60s']);
}

/**
 * SIGTERMs the leader and times the standby taking over, each moment from the logging process's own
 * clock: the leader's exit code, how long its shutdown took, release → new leader, SIGTERM → new leader.
 */
export async function sigtermHandover(
  leader: ControllerProcess,
  standby: ControllerProcess,
  timeoutMs: number,
) {
  const signalled = Date.now();
  const exitCode = await leader.stop('SIGTERM');
  const exited = Date.now();
  await eventually('the standby leading', () => standby.loggedAt('became leader'), timeoutMs);
  const released = leader.loggedAt('released the lease');
  const led = standby.loggedAt('became leader');
  if (released === undefined || led === undefined) throw new Error('handover not logged');
  return {
    exitCode,
    shutdownMs: exited - signalled,
    releaseToLeaderMs: led - released,
    sigtermToLeaderMs: led - signalled,
  };
}

/**
 * The README's install, `kubectl apply -k manifests/`, server-side; then waits for the CRD to be
 * Established. Every cluster test file installs (the same apply is a no-op the second time).
 */
export async function installOperator(): Promise<string> {
  const out = await kubectlOk(['apply', '--server-side', '-k', 'manifests/']);
  await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', `crd/${CRD_NAME}`]);
  return out;
}

/**
 * A namespace and a database of one test file's own, with admin clients. Namespaces are never deleted:
 * without kube-controller-manager they would stay Terminating anyway (envtest has the same limit).
 */
export class ClusterEnv {
  readonly kc = adminKubeConfig();
  readonly core = this.kc.makeApiClient(CoreV1Api);
  readonly custom = this.kc.makeApiClient(CustomObjectsApi);
  readonly rbac = this.kc.makeApiClient(RbacAuthorizationV1Api);
  readonly authorization = this.kc.makeApiClient(AuthorizationV1Api);
  readonly controllers: ControllerProcess[] = [];

  private constructor(
    readonly namespace: string,
    readonly db: TestDatabase,
  ) {}

  static async create(prefix: string): Promise<ClusterEnv> {
    const namespace = `${prefix}-${randomBytes(3).toString('hex')}`;
    const env = new ClusterEnv(namespace, await createTestDatabase(prefix.replaceAll('-', '_')));
    await env.core.createNamespace({ body: { metadata: { name: namespace } } });
    return env;
  }

  /** The Secret a provision's `connection.secretRef` names, holding the database URL under `url`. */
  async secret(name: string, url = this.db.url): Promise<void> {
    await this.core.createNamespacedSecret({
      namespace: this.namespace,
      body: { metadata: { name }, stringData: { url } },
    });
  }

  /** A provision (aSinkProvision) and the Secret it names, holding this file's database URL. */
  async createSink(
    name: string,
    spec: Parameters<typeof aSinkProvision>[1] = { schema: `cdm_${name}` },
  ): Promise<CdmSinkProvision> {
    await this.secret(spec.secret ?? `${name}-sink`);
    return this.createProvision(aSinkProvision(name, spec));
  }

  /** Creates `provision` in this file's namespace, whatever namespace it names. */
  async createProvision(provision: CdmSinkProvision): Promise<CdmSinkProvision> {
    return (await this.custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      plural: PLURAL,
      namespace: this.namespace,
      body: { ...provision, metadata: { ...provision.metadata, namespace: this.namespace } },
    })) as CdmSinkProvision;
  }

  async provision(name: string): Promise<CdmSinkProvision | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        plural: PLURAL,
        namespace: this.namespace,
        name,
      })) as CdmSinkProvision;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  /** A JSON merge patch of the provision's spec or metadata (the main resource, not status). */
  async patchProvision(name: string, patch: object): Promise<CdmSinkProvision> {
    return (await this.custom.patchNamespacedCustomObject(
      {
        group: API_GROUP,
        version: API_VERSION,
        plural: PLURAL,
        namespace: this.namespace,
        name,
        body: patch,
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as CdmSinkProvision;
  }

  async tables(schema: string): Promise<string[]> {
    const { rows } = await this.db.pool.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
      [schema],
    );
    return rows.map((r) => r.table_name);
  }

  /**
   * A kubeconfig for a ServiceAccount, with a token from the TokenRequest API: the identity a Pod of the
   * Deployment would have.
   */
  async serviceAccountKubeconfig(
    serviceAccount = SERVICE_ACCOUNT,
    namespace = SYSTEM_NAMESPACE,
    server = controlPlane().server,
  ): Promise<string> {
    const request = await this.core.createNamespacedServiceAccountToken({
      name: serviceAccount,
      namespace,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const token = request.status?.token;
    if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
    const { workDir, certs } = controlPlane();
    const file = path.join(
      workDir,
      `${namespace}.${serviceAccount}.${randomBytes(3).toString('hex')}.kubeconfig`,
    );
    return writeKubeconfig(file, server, certs.servingCa, { token });
  }

  /**
   * `cdm-sink controller` as its own process, watching this file's namespace only, electing on a Lease
   * of the namespace's own unless told otherwise, so files never elect each other's leaders.
   */
  startController(options: {
    kubeconfig: string;
    identity: string;
    leaseName?: string;
    args?: readonly string[];
  }): ControllerProcess {
    const controller = new ControllerProcess({
      namespace: this.namespace,
      leaseName: `cdm-sink-${this.namespace}`,
      leaseNamespace: SYSTEM_NAMESPACE,
      ...options,
    });
    this.controllers.push(controller);
    return controller;
  }

  async close(): Promise<void> {
    await Promise.all(this.controllers.map((c) => c.stop()));
    await this.db.drop();
  }
}
