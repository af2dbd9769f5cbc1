import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { API_GROUP, API_VERSION, PLURAL } from '../../src/api/types.js';
import { aSinkProvision } from '../integration/controller-env.js';
import { ControllerProcess } from '../support/controller-process.js';
import {
  ClusterEnv,
  eventually,
  helmOk,
  installOperator,
  kubectl,
  kubectlOk,
  SYSTEM_NAMESPACE,
  sigtermHandover,
  waitReady,
} from './cluster-env.js';

interface Rendered {
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string };
  readonly spec?: { template?: { spec: { containers: Array<{ args: string[] }> } } };
}

/** The two namespaced installs, rendered for a fresh controller namespace and the namespaces it watches. */
const INSTALLS: ReadonlyArray<{
  readonly name: string;
  readonly render: (system: string, watched: readonly [string, ...string[]]) => Promise<string>;
}> = [
  {
    name: 'the Helm chart with watchNamespaces',
    render: (system, watched) =>
      helmOk([
        'template',
        'cdm-sink-operator',
        'charts/cdm-sink-operator',
        '--namespace',
        system,
        '--set',
        'crds.create=false',
        '--set',
        `watchNamespaces={${watched.join(',')}}`,
      ]),
  },
  {
    // What its kustomization.yaml tells people to do: replace data-platform with their namespace. The
    // controller's own namespace is renamed too, so the cluster-wide install other files apply (which binds
    // cdm-sink-system's ServiceAccount) cannot lend this one its ClusterRole.
    name: 'the kustomize overlay manifests/namespaced/',
    render: async (system, [watched]) =>
      (await kubectlOk(['kustomize', 'manifests/namespaced/']))
        .replaceAll(SYSTEM_NAMESPACE, system)
        .replaceAll('data-platform', watched),
  },
];

const suffix = () => randomBytes(3).toString('hex');

/**
 * A rendered install applied for real, and its controller started as its Deployment would run it: the
 * rendered ServiceAccount's token, the Deployment's own arguments but for the ports (each test process
 * takes free ones), the Lease in the install's namespace.
 */
async function applyInstall(env: ClusterEnv, system: string, text: string) {
  const objects = parseAllDocuments(text).map((d) => d.toJS() as Rendered);
  await kubectlOk(['apply', '--server-side', '-f', '-'], { input: text });
  const account = objects.find((o) => o.kind === 'ServiceAccount')!;
  const kubeconfig = await env.serviceAccountKubeconfig(account.metadata.name, system);
  const args = objects
    .find((o) => o.kind === 'Deployment')!
    .spec!.template!.spec.containers[0]!.args.filter(
      (a) => a !== 'controller' && !/^--(metrics|health)-port=/.test(a),
    );
  const leaseName = args.find((a) => a.startsWith('--lease-name='))!.slice('--lease-name='.length);
  const start = (identity: string) => {
    const controller = new ControllerProcess({
      kubeconfig,
      identity,
      leaseName,
      leaseNamespace: system,
      args,
    });
    env.controllers.push(controller);
    return controller;
  };
  return { objects, kubeconfig, args, start };
}

describe.each(INSTALLS)('$name', ({ render }) => {
  let env: ClusterEnv;
  let system: string;
  /** Watched but holding nothing: only the chart's test of two namespaces. */
  let other: string;
  /** Not watched: a provision and a Secret the controller must neither touch nor read. */
  let outside: string;
  let objects: Rendered[];
  let kubeconfig: string;
  let args: string[];
  let start: (identity: string) => ControllerProcess;

  beforeAll(async () => {
    await installOperator();
    env = await ClusterEnv.create('watched');
    system = `ns-system-${suffix()}`;
    other = `ns-other-${suffix()}`;
    outside = `ns-outside-${suffix()}`;
    for (const namespace of [system, other, outside]) await kubectlOk(['create', 'namespace', namespace]);
    ({ objects, kubeconfig, args, start } = await applyInstall(
      env,
      system,
      await render(system, [env.namespace, other]),
    ));
  });
  afterAll(async () => {
    await env?.close();
  });

  it('grants nothing cluster-wide: no ClusterRole, Roles only in the watched namespaces', () => {
    expect(objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toEqual([]);
    const roleNamespaces = objects.filter((o) => o.kind === 'Role').map((o) => o.metadata.namespace);
    expect(roleNamespaces).toContain(env.namespace);
    // The leader-election Role lives in the controller's own namespace; every other one in a watched one.
    for (const namespace of roleNamespaces) expect([system, env.namespace, other]).toContain(namespace);
    expect(args.some((a) => a.startsWith('--namespace=') && a.includes(env.namespace))).toBe(true);
  });

  it('reconciles a provision in a watched namespace, ignores one outside, and cannot read its Secret', async () => {
    start('replica-0');
    // The same provision and Secret outside the watched namespaces.
    await kubectlOk([
      'create',
      'secret',
      'generic',
      'outside-sink',
      '-n',
      outside,
      `--from-literal=url=${env.db.url}`,
    ]);
    const stray = aSinkProvision('outside', { schema: 'cdm_outside', secret: 'outside-sink' });
    await env.custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      plural: PLURAL,
      namespace: outside,
      body: { ...stray, metadata: { ...stray.metadata, namespace: outside } },
    });
    await env.createSink('inside');
    expect((await waitReady(env.namespace, 'inside')).stderr).toBe('');
    expect(await env.tables('cdm_inside')).not.toEqual([]);

    // A resync later, the provision outside is still untouched: no finalizer, no status, no table.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const untouched = JSON.parse(
      await kubectlOk(['get', 'cdmsink/outside', '-n', outside, '-o', 'json']),
    ) as {
      metadata: { finalizers?: string[] };
      status?: unknown;
    };
    expect(untouched.metadata.finalizers).toBeUndefined();
    expect(untouched.status).toBeUndefined();
    expect(await env.tables('cdm_outside')).toEqual([]);

    // As the controller's ServiceAccount: the Secret outside is forbidden, the one inside is readable.
    const denied = await kubectl(['get', 'secret', 'outside-sink', '-n', outside], { kubeconfig });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/forbidden/i);
    expect((await kubectl(['get', 'secret', 'inside-sink', '-n', env.namespace], { kubeconfig })).code).toBe(
      0,
    );
    const can = async (...verb: string[]) =>
      (await kubectl(['auth', 'can-i', ...verb], { kubeconfig })).stdout.trim();
    expect(await can('get', 'secrets', '--all-namespaces')).toBe('no');
    expect(await can('list', 'secrets', '-n', env.namespace)).toBe('no');
    expect(await can('list', 'cdmsinkprovisions.cdm.nucleus.io', '-n', outside)).toBe('no');
    expect(await can('list', 'cdmsinkprovisions.cdm.nucleus.io', '-n', env.namespace)).toBe('yes');
  });
});

describe('the chart shipped timings: SIGTERM hands the Lease over at once', () => {
  // Covered with short test timings in leader-election.test.ts; this runs the chart's own defaults
  // (15 s lease, 2 s retry), where a leader that did not release would cost 15 s or more.
  const RETRY_PERIOD_MS = 2_000;
  let env: ClusterEnv;
  const measured: Record<string, number> = {};
  beforeAll(async () => {
    await installOperator();
    env = await ClusterEnv.create('handover');
  });
  afterAll(async () => {
    console.log(JSON.stringify({ chartDefaultsHandoverMs: measured }));
    await env?.close();
  });

  it('the standby leads within 2.2 retry periods of the release', async () => {
    const system = `ns-system-${suffix()}`;
    await kubectlOk(['create', 'namespace', system]);
    const { args, start } = await applyInstall(
      env,
      system,
      await INSTALLS[0]!.render(system, [env.namespace]),
    );
    expect(args).toEqual(expect.arrayContaining(['--lease-duration=15s', '--retry-period=2s']));

    const first = start('replica-0');
    await eventually('replica-0 leading', () => first.logged(/became leader/), 30_000);
    const second = start('replica-1');
    await eventually('replica-1 synced', () => second.logged(/controller started/), 30_000);

    const handover = await sigtermHandover(first, second, 20_000);
    expect(handover.exitCode).toBe(0);
    measured.releaseToLeader = handover.releaseToLeaderMs;
    measured.sigtermToLeader = handover.sigtermToLeaderMs;
    expect(measured.releaseToLeader).toBeLessThan(2.2 * RETRY_PERIOD_MS + 500);

    await env.createSink('afterhandover');
    expect((await waitReady(env.namespace, 'afterhandover')).stderr).toBe('');
  });
});
