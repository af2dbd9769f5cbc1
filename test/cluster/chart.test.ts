import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { REPO } from '../support/cli.js';
import { controlPlane, helm, helmOk, installOperator, kubectl, kubectlOk } from './cluster-env.js';

const CHART = 'charts/cdm-sink-operator';
const FULL_VALUES = `${CHART}/ci/full-values.yaml`;
/** The namespaces full-values.yaml renders objects into; server-side apply needs them to exist. */
const FULL_VALUES_NAMESPACES = ['cdm-sink-system', 'team-a', 'team-b', 'monitoring'];

interface RenderedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  readonly [key: string]: unknown;
}

async function template(...args: string[]): Promise<{ text: string; objects: RenderedObject[] }> {
  const text = await helmOk(['template', 'cdm-sink', CHART, '--namespace', 'cdm-sink-system', ...args]);
  const objects = parseAllDocuments(text)
    .map((d) => d.toJS() as RenderedObject | null)
    .filter((o): o is RenderedObject => o !== null);
  return { text, objects };
}

/** Server-side apply as a dry run: the real API server validates every object (schemas, CEL, defaults). */
async function serverDryRun(text: string): Promise<string[]> {
  const out = await kubectlOk(
    ['apply', '--server-side', '--dry-run=server', '--field-manager=helm', '-f', '-'],
    {
      input: text,
    },
  );
  return out.trim().split('\n');
}

const ofKind = (objects: readonly RenderedObject[], kind: string) => objects.filter((o) => o.kind === kind);
const readRepo = (file: string) => readFileSync(path.join(REPO, file), 'utf8');

describe('the Helm chart, checked by helm and the real API server', () => {
  beforeAll(async () => {
    await installOperator();
    // The chart's ServiceMonitor, PodMonitor and PrometheusRule are validated against prometheus-operator's
    // own schemas, generated from its API types (scripts/tools/build-monitoring-crds.sh).
    await kubectlOk(['apply', '--server-side', '-f', inject('tools').monitoringCrds]);
    for (const crd of ['servicemonitors', 'podmonitors', 'prometheusrules']) {
      await kubectlOk([
        'wait',
        '--for=condition=Established',
        '--timeout=60s',
        `crd/${crd}.monitoring.coreos.com`,
      ]);
    }
    for (const namespace of FULL_VALUES_NAMESPACES) {
      const created = await kubectl(['create', 'namespace', namespace]);
      if (created.code !== 0 && !created.stderr.includes('AlreadyExists')) throw new Error(created.stderr);
    }
  });

  it('passes helm lint --strict with the default and with the full values', async () => {
    await helmOk(['lint', CHART, '--strict']);
    await helmOk(['lint', CHART, '--strict', '-f', FULL_VALUES]);
  });

  it('renders the default values into objects the API server accepts', async () => {
    const { text, objects } = await template();
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'Deployment',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    const lines = await serverDryRun(text);
    expect(lines).toHaveLength(objects.length);
    for (const line of lines) expect(line).toMatch(/ serverside-applied \(server dry run\)$/);
  });

  it('renders every value set (full-values.yaml) into objects the API server accepts', async () => {
    const { text, objects } = await template('-f', FULL_VALUES);
    expect(ofKind(objects, 'ClusterRole')).toEqual([]);
    expect(ofKind(objects, 'ClusterRoleBinding')).toEqual([]);
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'ConfigMap', 'PodDisruptionBudget']) {
      expect(ofKind(objects, kind), kind).toHaveLength(1);
    }
    const lines = await serverDryRun(text);
    expect(lines).toHaveLength(objects.length);
    for (const line of lines) expect(line).toMatch(/ serverside-applied \(server dry run\)$/);
    // Every object carries the extra labels.
    for (const object of objects) expect(object.metadata.labels?.team, object.kind).toBe('data-platform');
  });

  it('grants exactly the kustomize ClusterRole rules, cluster-wide or per watched namespace', async () => {
    const [clusterRole] = parseAllDocuments(readRepo('manifests/rbac/cluster-role.yaml')).map(
      (d) => d.toJS() as RenderedObject,
    );
    const cluster = await template();
    expect(ofKind(cluster.objects, 'ClusterRole')[0]?.rules).toEqual(clusterRole!.rules);

    const namespaced = await template('--set', 'watchNamespaces={team-a,team-b}');
    const roles = ofKind(namespaced.objects, 'Role').filter(
      (r) => r.metadata.namespace !== 'cdm-sink-system',
    );
    expect(roles.map((r) => r.metadata.namespace)).toEqual(['team-a', 'team-b']);
    for (const role of roles) expect(role.rules).toEqual(clusterRole!.rules);
    const args = (ofKind(namespaced.objects, 'Deployment')[0] as unknown as DeploymentObject).spec.template
      .spec.containers[0]!.args;
    expect(args).toContain('--namespace=team-a,team-b');
  });

  it('ships the alerts and the dashboard of manifests/monitoring/ unchanged', async () => {
    const { objects } = await template(
      '--set',
      'prometheusRule.enabled=true',
      '--set',
      'grafanaDashboard.enabled=true',
    );
    const [rule] = ofKind(objects, 'PrometheusRule') as Array<RenderedObject & { spec: unknown }>;
    expect(rule!.spec).toEqual(parse(readRepo('manifests/monitoring/alerts.yaml')));
    const [dashboard] = ofKind(objects, 'ConfigMap') as Array<
      RenderedObject & { data: Record<string, string> }
    >;
    expect(dashboard!.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(dashboard!.data['cdm-sink-operator.json']!)).toEqual(
      JSON.parse(readRepo('manifests/monitoring/grafana-dashboard.json')),
    );
  });

  it('refuses values that would install something broken, saying which value and why', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--set', 'replicas=3'], /additional properties 'replicas' not allowed/],
      [['--set', 'logLevel=verbose'], /logLevel/],
      [['--set', 'leaderElection.leaseDuration=15'], /leaseDuration/],
      [['--set', 'watchNamespaces={Team_A}'], /watchNamespaces/],
      [['--set', 'leaderElection.enabled=false'], /replicaCount > 1 needs leaderElection.enabled=true/],
      [
        ['--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.podMonitor.enabled=true'],
        /both true/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await helm(['template', 'cdm-sink', CHART, ...args]);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('installs, upgrades and uninstalls with helm itself against the real API server', async () => {
    // The CRD stays with the kustomize install other files use (helm would refuse to adopt it).
    const release = `helm-${randomBytes(3).toString('hex')}`;
    const watched = `${release}-watched`;
    await kubectlOk(['create', 'namespace', watched]);
    const kubeconfig = `--kubeconfig=${controlPlane().kubeconfig}`;
    const common = [CHART, '--namespace', release, kubeconfig, '--set', 'crds.create=false'];
    await helmOk([
      'install',
      'cdm-sink-operator',
      ...common,
      '--create-namespace',
      '--set',
      `watchNamespaces={${watched}}`,
    ]);
    const names = async (kind: string, namespace: string) =>
      (await kubectlOk(['get', kind, '-n', namespace, '-o', 'jsonpath={.items[*].metadata.name}']))
        .split(' ')
        .filter(Boolean);
    expect(await names('deployment', release)).toEqual(['cdm-sink-operator']);
    expect(await names('poddisruptionbudget', release)).toEqual(['cdm-sink-operator']);
    expect(await names('role', watched)).toEqual(['cdm-sink-operator']);

    await helmOk(['upgrade', 'cdm-sink-operator', ...common, '--reuse-values', '--set', 'logLevel=debug']);
    const args = JSON.parse(
      await kubectlOk([
        'get',
        'deployment/cdm-sink-operator',
        '-n',
        release,
        '-o',
        'jsonpath={.spec.template.spec.containers[0].args}',
      ]),
    ) as string[];
    expect(args).toEqual(expect.arrayContaining(['--log-level=debug', `--namespace=${watched}`]));

    await helmOk(['uninstall', 'cdm-sink-operator', '--namespace', release, kubeconfig, '--wait']);
    expect(await names('deployment', release)).toEqual([]);
    expect(await names('role', watched)).toEqual([]);
  });

  it('keeps the CRD on uninstall and versions the chart with the package', async () => {
    const { objects } = await template();
    const [crd] = ofKind(objects, 'CustomResourceDefinition') as Array<
      RenderedObject & { metadata: { annotations?: Record<string, string> }; spec: unknown }
    >;
    expect(crd!.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    const generated = parse(readRepo('crds/cdm.nucleus.io_cdmsinkprovisions.yaml')) as { spec: unknown };
    expect(crd!.spec).toEqual(generated.spec);

    const chart = parse(readRepo(`${CHART}/Chart.yaml`)) as { version: string; appVersion: string };
    const { version } = JSON.parse(readRepo('package.json')) as { version: string };
    expect([chart.version, chart.appVersion]).toEqual([version, version]);
  });
});

interface DeploymentObject {
  spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
}
