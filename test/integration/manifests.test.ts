import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { monitoringCopies } from '../../scripts/monitoring-copies.js';
import { API_GROUP_VERSION, KIND } from '../../src/api/types.js';
import type { RunningController } from '../../src/controller/start-controller.js';
import { freePort } from '../../src/postgres/embedded-server.js';
import { aSinkProvision, ControllerEnv, eventually, LEASE, NAMESPACE } from './controller-env.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MANIFESTS = path.join(ROOT, 'manifests');

/** Folders under manifests/ that no install applies: sample provisions and Argo CD's own configuration. */
const NOT_INSTALLED = ['examples', 'argocd'];
/** Prometheus rule files (and their promtool tests): YAML, but not Kubernetes objects. */
const RULE_FILES = ['monitoring/alerts.yaml', 'monitoring/alerts.test.yaml'];
/** The kustomizations people apply: cluster-wide, namespaced, and the observability pack. */
const INSTALLS = ['.', 'namespaced', 'monitoring'];

interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string };
  readonly [key: string]: unknown;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

const relative = (file: string) => path.relative(MANIFESTS, file).split(path.sep).join('/');
const isYaml = (file: string) => /\.ya?ml$/.test(file);

function parse(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${relative(file)}: ${doc.errors[0]?.message}`);
    return doc.toJS() as Manifest;
  });
}

/**
 * The files a kustomization reaches through `resources` (folders are kustomizations themselves), as
 * paths under manifests/. Patches are not applied: the cluster tests render with the real kubectl.
 */
function resourceFiles(dir: string): string[] {
  const file = path.join(MANIFESTS, dir, 'kustomization.yaml');
  const { resources = [] } = parse(file)[0] as Manifest & { resources?: string[] };
  return resources.flatMap((r) => {
    const target = path.join(MANIFESTS, dir, r);
    if (!existsSync(target)) throw new Error(`${relative(file)} lists ${r}, which does not exist`);
    return statSync(target).isDirectory() ? resourceFiles(relative(target)) : [relative(target)];
  });
}

/** The cluster-wide install, `kubectl apply -k manifests/`. */
const base = resourceFiles('.').flatMap((f) => parse(path.join(MANIFESTS, f)));
const ofKind = (kind: string) => base.filter((m) => m.kind === kind);

interface Rule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

/** `group|resource[/subresource]|verb@scope` for every permission a role grants. */
function grants(kind: 'ClusterRole' | 'Role'): Set<string> {
  const out = new Set<string>();
  for (const role of ofKind(kind)) {
    const scope = kind === 'Role' ? role.metadata.namespace : '*';
    for (const rule of role.rules as Rule[]) {
      for (const group of rule.apiGroups)
        for (const resource of rule.resources)
          for (const verb of rule.verbs) out.add(`${group}|${resource}|${verb}@${scope}`);
    }
  }
  return out;
}

describe('manifests/', () => {
  it('parses every YAML file, each a Kubernetes object but for the Prometheus rule files', () => {
    const yamlFiles = filesUnder(MANIFESTS).filter(isYaml);
    expect(yamlFiles.length).toBeGreaterThan(8);
    for (const file of yamlFiles) {
      const docs = parse(file);
      if (RULE_FILES.includes(relative(file))) continue;
      for (const doc of docs) expect(doc.kind, relative(file)).toBeTruthy();
    }
  });

  it('applies every manifest file through one of the installs, and lists nothing that does not exist', () => {
    const reached = new Set(INSTALLS.flatMap(resourceFiles));
    const files = filesUnder(MANIFESTS)
      .filter(isYaml)
      .map(relative)
      .filter(
        (f) =>
          path.basename(f) !== 'kustomization.yaml' &&
          !RULE_FILES.includes(f) &&
          !NOT_INSTALLED.some((dir) => f.startsWith(`${dir}/`)),
      );
    expect([...reached].sort()).toEqual(files.sort());
  });

  it('ships the generated CRD unchanged, in the kustomize base and in the chart', () => {
    const generated = readFileSync(path.join(ROOT, 'crds/cdm.nucleus.io_cdmsinkprovisions.yaml'), 'utf8');
    for (const copy of [
      'manifests/base/crd/cdm.nucleus.io_cdmsinkprovisions.yaml',
      'charts/cdm-sink-operator/files/cdm.nucleus.io_cdmsinkprovisions.yaml',
    ]) {
      expect(readFileSync(path.join(ROOT, copy), 'utf8'), `${copy} is stale: npm run gen:crds`).toBe(
        generated,
      );
    }
  });

  it('ships the monitoring copies generated from alerts.yaml and the dashboard', () => {
    for (const [file, content] of monitoringCopies(ROOT)) {
      expect(readFileSync(path.join(ROOT, file), 'utf8'), `${file} is stale: npm run gen:monitoring`).toBe(
        content,
      );
    }
  });

  it('grants a watched namespace of the namespaced install exactly what the ClusterRole grants', () => {
    const [role, binding] = parse(path.join(MANIFESTS, 'namespaced/watched-namespace-rbac.yaml'));
    expect(role!.kind).toBe('Role');
    expect(role!.rules).toEqual(ofKind('ClusterRole')[0]!.rules);
    expect(binding!.subjects).toEqual(ofKind('ClusterRoleBinding')[0]!.subjects);
    expect(resourceFiles('namespaced').filter((f) => f.startsWith('rbac/'))).toEqual([]);
  });

  it('keeps one replica available through voluntary disruptions', () => {
    const [budget] = ofKind('PodDisruptionBudget') as Array<Manifest & { spec: object }>;
    const [deployment] = ofKind('Deployment') as Array<Manifest & { spec: DeploymentSpec }>;
    expect(budget!.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: deployment!.spec.selector.matchLabels },
    });
  });

  it('runs the controller hardened, with probes, downward-API identity and leader election', () => {
    const [deployment] = ofKind('Deployment') as Array<Manifest & { spec: DeploymentSpec }>;
    const pod = deployment!.spec.template.spec;
    const container = pod.containers[0]!;
    expect(deployment!.spec.replicas).toBe(2);
    expect(container.args).toContain('--leader-elect=true');
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    // Liveness waits for the startup probe instead of guessing a delay.
    expect(container.livenessProbe).not.toHaveProperty('initialDelaySeconds');
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container.ports).toContainEqual({ name: 'health', containerPort: 8081 });
    expect(container.resources.requests).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
    const fieldRefs = Object.fromEntries(
      container.env
        .filter((e) => e.valueFrom?.fieldRef)
        .map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]),
    );
    expect(fieldRefs).toEqual({ POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace' });
    expect(pod.serviceAccountName).toBe(ofKind('ServiceAccount')[0]?.metadata.name);
  });

  it('embeds exactly health.lua in the Argo CD ConfigMap snippet', () => {
    const [configMap] = parse(path.join(MANIFESTS, 'argocd/argocd-cm.yaml')) as Array<
      Manifest & { data: Record<string, string> }
    >;
    const lua = readFileSync(path.join(MANIFESTS, 'argocd/health.lua'), 'utf8');
    expect(configMap!.data['resource.customizations.health.cdm.nucleus.io_CdmSinkProvision']).toBe(lua);
  });
});

interface DeploymentSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: {
    spec: {
      serviceAccountName: string;
      securityContext: object;
      containers: Array<{
        args: string[];
        securityContext: object;
        startupProbe: { httpGet: object };
        livenessProbe: { httpGet: object };
        readinessProbe: { httpGet: object };
        ports: object[];
        resources: { requests?: object; limits: { memory?: string } };
        env: Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
      }>;
    };
  };
}

/**
 * Least privilege, checked against behaviour: a scenario that takes every path the controller has
 * (finalizer add with a conflict, status, Secret, repeated Events, deletion, leader election) runs
 * against the fake API server, and the requests it made must be exactly what the roles grant.
 */
describe('RBAC matches the API calls the controller makes', () => {
  let env: ControllerEnv;
  let controller: RunningController;
  beforeAll(async () => {
    env = await ControllerEnv.create();
    controller = await env.start('rbac', {
      leaderElection: { ...LEASE, leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 250 },
    });
    await eventually('leadership', () => controller.isLeader());

    // A finalizer patch that loses a race (409) and re-reads the object.
    env.secret('rbac-sink', env.db.url);
    env.api.faults.delay(400, { method: 'PATCH', pathIncludes: '/cdmsinkprovisions/rbac' });
    env.createProvision(aSinkProvision('rbac', { schema: 'cdm_rbac' }));
    await eventually('the finalizer patch in flight', () =>
      env.api.requests.some((r) => r.verb === 'patch' && r.name === 'rbac' && r.status === 0),
    );
    const current = env.provision('rbac')!;
    env.updateProvision({ ...current, metadata: { ...current.metadata, labels: { race: 'won' } } });
    await env.waitReady('rbac');
    env.api.faults.delay(0);

    // A failure that repeats, so its Event is aggregated with a patch.
    env.secret('rbac-down-sink', `postgres://x:y@127.0.0.1:${await freePort()}/none`);
    env.createProvision(aSinkProvision('rbac-down', { schema: 'cdm_rbac_down' }));
    await eventually('an aggregated Event', () => env.events('rbac-down').some((e) => (e.count ?? 0) > 1));
    env.secret('rbac-down-sink', env.db.url);
    await env.waitReady('rbac-down');

    env.api.delete(API_GROUP_VERSION, KIND, NAMESPACE, 'rbac');
    await eventually('the object gone', () => env.provision('rbac') === undefined);
    await controller.stop();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('took the conflict path the scenario aims for', () => {
    expect(env.api.requests.some((r) => r.verb === 'patch' && r.name === 'rbac' && r.status === 409)).toBe(
      true,
    );
  });

  it('uses every permission granted and nothing more', () => {
    const clusterWide = grants('ClusterRole');
    const namespaced = grants('Role');
    const used = new Set<string>();
    for (const r of env.api.requests.filter((req) => req.isResourceRequest)) {
      const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
      const permission = `${r.group}|${resource}|${r.verb}`;
      used.add(
        namespaced.has(`${permission}@${r.namespace}`) ? `${permission}@${r.namespace}` : `${permission}@*`,
      );
    }
    expect([...used].sort()).toEqual([...clusterWide, ...namespaced].sort());
    expect(namespaced.size).toBeGreaterThan(0);
    expect([...namespaced].every((p) => p.endsWith(`@${LEASE.leaseNamespace}`))).toBe(true);
  });

  it('binds both roles to the controller ServiceAccount', () => {
    const account = ofKind('ServiceAccount')[0]!;
    for (const binding of [...ofKind('ClusterRoleBinding'), ...ofKind('RoleBinding')]) {
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: account.metadata.name, namespace: account.metadata.namespace },
      ]);
    }
    expect(ofKind('RoleBinding')[0]?.metadata.namespace).toBe(LEASE.leaseNamespace);
  });
});
