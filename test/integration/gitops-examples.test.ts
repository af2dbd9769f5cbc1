import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { REPO, runCli } from '../support/cli.js';
import type { Envelope } from '../support/envelope.js';

/**
 * examples/gitops/: the Argo CD app-of-apps and the Flux Kustomizations order CRD → operator →
 * provisions → workers, the sample provision is valid, and the CI example's validate step, run as
 * GitHub Actions runs it against a scratch Git repository, passes unrelated changes and fails an invalid
 * provision with the CLI's own error.
 */

const GITOPS = path.join(REPO, 'examples/gitops');
const HEALTH_FIXTURES = path.join(REPO, 'manifests/argocd/testdata');
const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string })
  .version;
const OPERATOR_REPO = 'https://github.com/nucleus/cdm-sink-operator';
const CHART_PATH = 'charts/cdm-sink-operator';

interface Manifest {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly annotations?: Record<string, string>;
  };
  readonly spec?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

interface Located {
  readonly file: string;
  readonly doc: Manifest;
}

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return yamlFilesUnder(full);
    return /\.ya?ml$/.test(entry.name) ? [full] : [];
  });
}

const relative = (file: string) => path.relative(REPO, file).split(path.sep).join('/');

function documentsOf(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${relative(file)}: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as Manifest | null;
    return value === null ? [] : [value];
  });
}

const all: Located[] = yamlFilesUnder(GITOPS).flatMap((file) =>
  documentsOf(file).map((doc) => ({ file: relative(file), doc })),
);
const ofKind = (kind: string, under = 'examples/gitops/') =>
  all.filter((m) => m.doc.kind === kind && m.file.startsWith(under));
/** Every document in a folder of this repository, as a GitOps tool reads it (subfolders included). */
const inFolder = (repoPath: string) =>
  all.filter((m) => m.file.startsWith(`${repoPath.replace(/^\.\//, '').replace(/\/$/, '')}/`));

const wave = (m: Manifest) => Number(m.metadata?.annotations?.['argocd.argoproj.io/sync-wave'] ?? '0');

interface Application extends Manifest {
  readonly spec: {
    readonly source: {
      readonly repoURL: string;
      readonly targetRevision: string;
      readonly path: string;
      readonly helm?: { readonly valuesObject?: { readonly crds?: { readonly create?: boolean } } };
    };
    readonly destination: { readonly namespace: string };
    readonly syncPolicy?: { readonly syncOptions?: string[] };
  };
}

describe('examples/gitops/ manifests', () => {
  it('parse, and every document has an apiVersion and a kind', () => {
    expect(all.length).toBeGreaterThan(10);
    for (const { file, doc } of all.filter((m) => !m.file.includes('/ci/'))) {
      expect(doc.apiVersion, file).toBeTruthy();
      expect(doc.kind, file).toBeTruthy();
    }
  });

  it('hold CdmSinkProvisions that cdm-sink validate accepts (the CLI, as a subprocess)', async () => {
    const files = [...new Set(ofKind('CdmSinkProvision').map((m) => m.file))];
    expect(files.length).toBeGreaterThan(0);
    const result = await runCli(['validate', '-o', 'json', ...files.flatMap((f) => ['-f', f])]);
    expect(result.code, result.stderr).toBe(0);
    const envelope = JSON.parse(result.stdout) as Envelope;
    expect(envelope.errors).toEqual([]);
    expect(envelope.provisions.map((p) => p.id)).toEqual(
      ofKind('CdmSinkProvision').map((m) => `${m.doc.metadata?.namespace}/${m.doc.metadata?.name}`),
    );
  });

  it('give the workers the Secret, key, schema and prefix their provision names', () => {
    const [provision] = ofKind('CdmSinkProvision');
    const endpoint = provision!.doc.spec?.endpoint as {
      connection: { secretRef: { name: string; key?: string } };
      schema: string;
      tablePrefix: string;
    };
    const [deployment] = ofKind('Deployment', 'examples/gitops/workers/');
    expect(deployment!.doc.metadata?.namespace).toBe(provision!.doc.metadata?.namespace);
    const pod = (deployment!.doc.spec as { template: { spec: { containers: Container[] } } }).template.spec;
    const env = Object.fromEntries(pod.containers[0]!.env.map((e) => [e.name, e]));
    expect(env.CDM_SINK_DATABASE_URL?.valueFrom?.secretKeyRef).toEqual({
      name: endpoint.connection.secretRef.name,
      key: endpoint.connection.secretRef.key ?? 'url',
    });
    expect(env.CDM_SINK_SCHEMA?.value).toBe(endpoint.schema);
    expect(env.CDM_SINK_TABLE_PREFIX?.value).toBe(endpoint.tablePrefix);
    const secrets = ofKind('Secret', 'examples/gitops/provisions/').map((m) => m.doc.metadata?.name);
    expect(secrets).toContain(endpoint.connection.secretRef.name);
  });
});

interface Container {
  readonly env: Array<{
    readonly name: string;
    readonly value?: string;
    readonly valueFrom?: { readonly secretKeyRef?: { name: string; key: string } };
  }>;
}

describe('Argo CD: an app-of-apps in sync waves CRD → operator → provisions → workers', () => {
  const root = ofKind('Application', 'examples/gitops/argocd/root.yaml')[0]!.doc as Application;
  const children = ofKind('Application', 'examples/gitops/argocd/apps/').map((m) => m.doc as Application);
  const byWave = [...children].sort((a, b) => wave(a) - wave(b));
  const [operator, provisions, workers] = byWave;

  it('the parent syncs exactly the child Applications in apps/', () => {
    expect(root.spec.source.path).toBe('examples/gitops/argocd/apps');
    expect(inFolder(root.spec.source.path).every((m) => m.doc.kind === 'Application')).toBe(true);
    expect(children).toHaveLength(3);
    expect(new Set(children.map(wave)).size).toBe(3);
  });

  it('first wave: the CRD and the operator, from this repository’s chart at a release tag', () => {
    expect(operator!.spec.source).toMatchObject({
      repoURL: OPERATOR_REPO,
      path: CHART_PATH,
      targetRevision: `v${VERSION}`,
      helm: { valuesObject: { crds: { create: true } } },
    });
    const chart = parse(readFileSync(path.join(REPO, CHART_PATH, 'Chart.yaml'), 'utf8')) as { name: string };
    expect(chart.name).toBe('cdm-sink-operator');
    // crds.create is what puts the CRD into this first wave.
    expect(readFileSync(path.join(REPO, CHART_PATH, 'templates/crd.yaml'), 'utf8')).toContain(
      '.Values.crds.create',
    );
  });

  it('second wave: the provisions, which Argo CD may sync before the CRD exists', () => {
    const docs = inFolder(provisions!.spec.source.path);
    expect(docs.map((m) => m.doc.kind)).toContain('CdmSinkProvision');
    expect(docs.map((m) => m.doc.kind)).not.toContain('Deployment');
    const skips = (m: Manifest) =>
      (m.metadata?.annotations?.['argocd.argoproj.io/sync-options'] ?? '').includes(
        'SkipDryRunOnMissingResource=true',
      );
    expect(provisions!.spec.syncPolicy?.syncOptions).toContain('SkipDryRunOnMissingResource=true');
    for (const m of docs.filter((d) => d.doc.kind === 'CdmSinkProvision'))
      expect(skips(m.doc), m.file).toBe(true);
    // The controller does not watch Secrets: the one a provision names comes in an earlier wave.
    const secretWave = Math.max(...docs.filter((m) => m.doc.kind === 'Secret').map((m) => wave(m.doc)));
    const provisionWave = Math.min(
      ...docs.filter((m) => m.doc.kind === 'CdmSinkProvision').map((m) => wave(m.doc)),
    );
    expect(secretWave).toBeLessThan(provisionWave);
  });

  it('third wave: the workers, once every provision is Healthy', () => {
    const kinds = inFolder(workers!.spec.source.path).map((m) => m.doc.kind);
    expect(kinds).toContain('Deployment');
    expect(kinds).not.toContain('CdmSinkProvision');
    expect(wave(operator!)).toBeLessThan(wave(provisions!));
    expect(wave(provisions!)).toBeLessThan(wave(workers!));
  });

  it('ships the Application health check a parent needs to wait for its children', () => {
    const [cm] = ofKind('ConfigMap', 'examples/gitops/argocd/');
    const lua = (cm!.doc.data as Record<string, string>)[
      'resource.customizations.health.argoproj.io_Application'
    ];
    expect(lua).toContain('obj.status.health.status');
  });
});

interface FluxKustomization extends Manifest {
  readonly spec: {
    readonly path: string;
    readonly dependsOn?: Array<{ name: string }>;
    readonly wait?: boolean;
    readonly healthChecks?: unknown[];
    readonly healthCheckExprs?: Array<{ apiVersion: string; kind: string; current: string; failed?: string }>;
    readonly timeout?: string;
    readonly sourceRef: { kind: string; name: string };
  };
}

describe('Flux: HelmRelease, then provisions (waited for), then workers, through dependsOn', () => {
  const kustomizations = ofKind('Kustomization', 'examples/gitops/flux/').map(
    (m) => m.doc as FluxKustomization,
  );
  const named = (name: string) => kustomizations.find((k) => k.metadata?.name === name)!;

  it('uses the current Flux APIs', () => {
    for (const k of kustomizations) expect(k.apiVersion).toBe('kustomize.toolkit.fluxcd.io/v1');
    for (const m of ofKind('HelmRelease')) expect(m.doc.apiVersion).toBe('helm.toolkit.fluxcd.io/v2');
    for (const m of ofKind('GitRepository')) expect(m.doc.apiVersion).toBe('source.toolkit.fluxcd.io/v1');
  });

  it('chains operator → provisions → workers, each waiting for what it applied, within a timeout', () => {
    expect(kustomizations.map((k) => k.metadata?.name).sort()).toEqual([
      'cdm-provisions',
      'cdm-sink-operator',
      'cdm-workers',
    ]);
    expect(named('cdm-sink-operator').spec.dependsOn ?? []).toEqual([]);
    expect(named('cdm-provisions').spec.dependsOn).toEqual([{ name: 'cdm-sink-operator' }]);
    expect(named('cdm-workers').spec.dependsOn).toEqual([{ name: 'cdm-provisions' }]);
    for (const k of kustomizations) {
      expect(k.spec.wait === true || (k.spec.healthChecks ?? []).length > 0, k.metadata?.name).toBe(true);
      expect(k.spec.timeout, k.metadata?.name).toMatch(/^\d+[smh]$/);
    }
  });

  it('applies the chart with its CRD, then the provisions, then the workers', () => {
    const operatorDocs = inFolder(named('cdm-sink-operator').spec.path);
    const release = operatorDocs.find((m) => m.doc.kind === 'HelmRelease')!.doc as Manifest & {
      spec: {
        chart: { spec: { chart: string; sourceRef: { kind: string; name: string } } };
        values: unknown;
      };
    };
    expect(release.spec.chart.spec.chart).toBe(`./${CHART_PATH}`);
    expect(release.spec.values).toMatchObject({ crds: { create: true } });
    const source = operatorDocs.find(
      (m) =>
        m.doc.kind === release.spec.chart.spec.sourceRef.kind &&
        m.doc.metadata?.name === release.spec.chart.spec.sourceRef.name,
    )!.doc;
    expect(source.spec).toMatchObject({ url: OPERATOR_REPO, ref: { tag: `v${VERSION}` } });
    expect(inFolder(named('cdm-provisions').spec.path).map((m) => m.doc.kind)).toContain('CdmSinkProvision');
    expect(inFolder(named('cdm-workers').spec.path).map((m) => m.doc.kind)).toContain('Deployment');
  });

  it('asks for Ready (or Stalled) for the current generation, as Flux’s own status reader evaluates it', () => {
    const checks = named('cdm-provisions').spec.healthCheckExprs ?? [];
    expect(checks).toMatchObject([{ apiVersion: 'cdm.nucleus.io/v1alpha1', kind: 'CdmSinkProvision' }]);
    // The controller's status shapes: the Argo CD health check's fixtures.
    const fixtures = readdirSync(HEALTH_FIXTURES).sort();
    const objects = fixtures.map(
      (f) => parseAllDocuments(readFileSync(path.join(HEALTH_FIXTURES, f), 'utf8'))[0]!.toJS() as object,
    );
    const run = spawnSync(inject('fluxHealth'), [], {
      input: JSON.stringify({ healthCheckExprs: checks, objects }),
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    const results = JSON.parse(run.stdout) as Array<{ status: string; error?: string }>;
    const statuses = Object.fromEntries(
      fixtures.map((f, i) => [f.replace(/\.yaml$/, ''), results[i]!.status]),
    );
    // Current lets the workers' Kustomization go on; Failed stops the wait (a human must act); the rest
    // keep it waiting until its timeout. Without any status yet the expressions cannot be evaluated
    // (`status` is absent), which Flux reads as Unknown and polls again: the controller writes status
    // within a reconcile.
    expect(statuses).toEqual({
      'deleting-blocked-suspended': 'Failed',
      'deleting-blocked': 'Failed',
      'deleting-retrying': 'InProgress',
      deleting: 'InProgress',
      'no-status': 'Unknown',
      ready: 'Current',
      'reconciling-retrying': 'InProgress',
      'stale-generation': 'InProgress',
      'stale-stalled': 'InProgress',
      'stalled-invalid-spec': 'Failed',
      'stalled-secret-not-found': 'Failed',
      suspended: 'InProgress',
    });
    expect(results[fixtures.indexOf('no-status.yaml')]!.error).toMatch(/no such attribute/);
  });
});

// ---------------------------------------------------------------------------------------------------
// The CI example, run the way GitHub Actions runs a `shell: bash` step.

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly shell?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, string>;
}

const WORKFLOW = path.join(GITOPS, 'ci/validate-manifests.yaml');
const VALIDATE_STEP = 'Validate changed CdmSinkProvision manifests';
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function workflowSteps(): Step[] {
  const workflow = parse(readFileSync(WORKFLOW, 'utf8')) as { jobs: Record<string, { steps: Step[] }> };
  return Object.values(workflow.jobs).flatMap((job) => job.steps);
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('the CI example’s validate step, against a scratch Git repository', () => {
  const steps = workflowSteps();
  const step = steps.find((s) => s.name === VALIDATE_STEP)!;
  let dir: string;
  let base: string;
  // No developer or CI configuration of Git leaks in; commits need an identity.
  const gitEnv = {
    ...process.env,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
  };
  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: dir, env: gitEnv, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const file = (name: string) => path.join(dir, name);
  const edit = (name: string, change: (text: string) => string) => {
    const before = readFileSync(file(name), 'utf8');
    const after = change(before);
    expect(after, `${name} changed`).not.toBe(before);
    writeFileSync(file(name), after);
  };

  /** A branch from the base commit with one commit of `changes`, then the step, as Actions runs it. */
  function pullRequest(branch: string, changes: () => void): Run {
    git('checkout', '-q', '-B', branch, base);
    changes();
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', branch);
    const script = file(`../${branch}.sh`);
    writeFileSync(script, step.run!);
    // GitHub runs `shell: bash` steps as `bash --noprofile --norc -eo pipefail {0}`.
    const env: NodeJS.ProcessEnv = Object.fromEntries(
      Object.entries(gitEnv).filter(([key]) => !key.toLowerCase().startsWith('npm_')),
    );
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...env,
        BASE_SHA: base,
        // The CLI is the shim in node_modules/.bin; npm must never look elsewhere for it.
        npm_config_offline: 'true',
        npm_config_update_notifier: 'false',
        CDM_SINK_DATABASE_URL: '',
      },
    });
    return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  }

  beforeAll(() => {
    for (const [tool, install] of [
      ['git', 'git'],
      ['jq', 'jq'],
    ] as const) {
      if (spawnSync(tool, ['--version']).error)
        throw new Error(
          `${tool} is not installed; the CI example's step uses it (apt-get install ${install})`,
        );
    }
    dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'gitops-ci-')), 'repo');
    mkdirSync(dir);
    git('init', '-q', '-b', 'main');
    cpSync(GITOPS, file('examples/gitops'), { recursive: true });
    writeFileSync(file('.gitignore'), 'node_modules/\n');
    // What `npm install cdm-sink-operator` leaves for `npx cdm-sink`: a bin in node_modules/.bin. Here it
    // runs this repository's sources (as test/support/cli.ts does), so the test never runs a stale dist/.
    mkdirSync(file('node_modules/.bin'), { recursive: true });
    writeFileSync(
      file('node_modules/.bin/cdm-sink'),
      `#!/bin/sh\nexec '${process.execPath}' --import '${TSX}' '${path.join(REPO, 'src/cli/bin.ts')}' "$@"\n`,
    );
    chmodSync(file('node_modules/.bin/cdm-sink'), 0o755);
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    base = git('rev-parse', 'HEAD');
  });
  afterAll(() => {
    if (dir) rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('is the step the workflow runs: bash, the base commit, the whole history, npx of the installed CLI', () => {
    expect(step.shell).toBe('bash');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JS template
    expect(step.env?.BASE_SHA).toBe('${{ github.event.pull_request.base.sha }}');
    expect(step.run).toContain('npx --no cdm-sink validate --allow-no-provisions');
    expect(steps.find((s) => s.uses?.startsWith('actions/checkout@'))?.with?.['fetch-depth']).toBe(0);
    expect(steps.some((s) => s.run?.includes(`cdm-sink-operator@${VERSION}`))).toBe(true);
  });

  it('passes a valid provision changed next to a Deployment, a kustomization.yaml and a Helm template', () => {
    const run = pullRequest('valid', () => {
      edit('examples/gitops/provisions/jira-cdm.yaml', (t) => t.replace('team: analytics', 'team: data'));
      edit('examples/gitops/workers/jira-ingest-worker.yaml', (t) => t.replace('replicas: 1', 'replicas: 2'));
      edit(
        'examples/gitops/provisions/kustomization.yaml',
        (t) => `${t}labels:\n  - pairs: { owner: data }\n`,
      );
      // Not YAML until Helm renders it: the step must not hand it to the CLI.
      mkdirSync(file('charts/other/templates'), { recursive: true });
      writeFileSync(
        file('charts/other/templates/deployment.yaml'),
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\n',
      );
    });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain(
      'ok      data-platform/jira-cdm (examples/gitops/provisions/jira-cdm.yaml, document 1)',
    );
  });

  it('passes files that mention the kind without holding one (a Flux health check)', () => {
    const run = pullRequest('mention', () => {
      edit('examples/gitops/flux/kustomizations.yaml', (t) => t.replace('timeout: 5m', 'timeout: 10m'));
    });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stderr).toContain('note: no CdmSinkProvision found in the given manifests');
  });

  it('passes a pull request without YAML changes', () => {
    const run = pullRequest('no-yaml', () => writeFileSync(file('README.md'), 'notes\n'));
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain('nothing to validate');
  });

  it('fails an invalid provision with the CLI’s error, naming file, document and field', () => {
    const run = pullRequest('invalid', () => {
      edit('examples/gitops/workers/jira-ingest-worker.yaml', (t) => t.replace('replicas: 1', 'replicas: 2'));
      edit('examples/gitops/provisions/jira-cdm.yaml', (t) =>
        t.replace('lockTimeout: 5s', 'lockTimeout: 5 s'),
      );
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'invalid examples/gitops/provisions/jira-cdm.yaml (document 1): spec.policy.lockTimeout: "5 s" does not match',
    );
    expect(run.stdout).toContain(
      '::error file=examples/gitops/provisions/jira-cdm.yaml,title=spec.policy.lockTimeout::"5 s" does not match',
    );
  });
});
