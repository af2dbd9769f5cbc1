import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { REPO } from '../support/cli.js';
import { ControllerProcess } from '../support/controller-process.js';
import { type FakeApiServer, startFakeApiServer } from '../support/fake-apiserver/index.js';
import { metricNames } from '../support/promql-names.js';
import { aSinkProvision, CRD_PATH, eventually, LEASE } from './controller-env.js';

/**
 * The observability pack in manifests/monitoring/ checked with the real tools: promtool validates and
 * unit-tests the alerts and parses every dashboard query, the runbook has a section for every alert, and a
 * running controller exports every metric the alerts and the dashboard use.
 */

const MONITORING = path.join(REPO, 'manifests/monitoring');
const ALERTS = path.join(MONITORING, 'alerts.yaml');
const ALERT_TESTS = path.join(MONITORING, 'alerts.test.yaml');
const DASHBOARD = path.join(MONITORING, 'grafana-dashboard.json');
const RUNBOOK = path.join(REPO, 'docs/alerts.md');
const RUNBOOK_URL = 'https://github.com/nucleus/cdm-sink-operator/blob/main/docs/alerts.md#';
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';
/** Grafana's reference to the dashboard's datasource variable, which every panel and query must use. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, meant literally.
const DATASOURCE_UID = '${datasource}';

interface RunResult {
  readonly code: number;
  readonly output: string;
}

/** promtool's exit code and its stdout and stderr together (it reports failures on both). */
function promtool(args: readonly string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(PROMTOOL, args, { cwd: MONITORING, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && 'errno' in error && error.code === 'ENOENT') {
        reject(
          new Error(
            `${PROMTOOL} not found: install Debian's \`prometheus\` package (apt-get install prometheus), ` +
              'which scripts/tools/ does in CI, or set PROMTOOL to its path',
          ),
        );
        return;
      }
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

async function expectPromtoolOk(args: readonly string[]): Promise<void> {
  const { code, output } = await promtool(args);
  if (code !== 0) throw new Error(`promtool ${args.join(' ')} failed (exit ${code}):\n${output}`);
}

// --- the files, as far as these checks read them ---

interface AlertRule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly annotations?: Record<string, string>;
}
interface RuleFile {
  readonly groups: readonly { readonly name: string; readonly rules: readonly AlertRule[] }[];
}
interface RuleTestFile {
  readonly tests: readonly {
    readonly name?: string;
    readonly alert_rule_test?: readonly {
      readonly alertname: string;
      readonly exp_alerts?: readonly unknown[];
    }[];
  }[];
}
interface Target {
  readonly refId?: string;
  readonly expr?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
}
interface Panel {
  readonly title?: string;
  readonly type?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query?: string | { readonly query?: string };
}
interface Dashboard {
  readonly uid: string;
  readonly schemaVersion: number;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Variable[] };
}

const alertRules = async (): Promise<AlertRule[]> => {
  const file = parse(await readFile(ALERTS, 'utf8')) as RuleFile;
  return file.groups.flatMap((g) => g.rules.filter((r) => r.alert !== undefined));
};
const dashboard = async (): Promise<Dashboard> => JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;

function* allPanels(panels: readonly Panel[]): Generator<Panel> {
  for (const panel of panels) {
    yield panel;
    // A collapsed row keeps its panels inside itself.
    if (panel.panels) yield* allPanels(panel.panels);
  }
}

/** A PromQL expression and where it came from, for failure messages. */
interface Located {
  readonly where: string;
  readonly expr: string;
}

/**
 * Grafana's variables replaced so promtool can parse the query: interval variables by a duration, the
 * others by a literal that is valid inside a label matcher, a regex, or (making the mistake visible) where
 * a metric name would stand.
 */
function substituteVariables(query: string): string {
  return query.replace(
    /\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g,
    (_match, braced?: string, bracketed?: string, bare?: string) => {
      const name = braced ?? bracketed ?? bare ?? '';
      if (name.startsWith('__')) {
        if (name.endsWith('_ms')) return '300000';
        if (name.endsWith('_s')) return '300';
        return '5m';
      }
      return 'grafana_var';
    },
  );
}

/**
 * The PromQL inside a Prometheus template variable's query, if any: `query_result(expr)` holds an
 * expression, `label_values(selector, label)` a series selector; `label_values(label)`, `label_names()`
 * and `metrics(regex)` hold none.
 */
function variablePromQL(query: string): string | undefined {
  const q = query.trim();
  const call = /^(\w+)\s*\(([\s\S]*)\)$/.exec(q);
  if (!call) return q;
  const [, fn, args = ''] = call;
  if (fn === 'query_result') return args;
  if (fn === 'label_values') {
    const comma = args.lastIndexOf(',');
    return comma === -1 ? undefined : args.slice(0, comma);
  }
  if (fn === 'label_names' || fn === 'metrics') return undefined;
  return q;
}

function dashboardExpressions(board: Dashboard): Located[] {
  const found: Located[] = [];
  for (const panel of allPanels(board.panels)) {
    for (const target of panel.targets ?? []) {
      if (target.expr === undefined || target.expr.trim() === '') continue;
      found.push({
        where: `panel "${panel.title ?? '(untitled)'}" query ${target.refId ?? '?'}`,
        expr: target.expr,
      });
    }
  }
  for (const variable of board.templating.list) {
    if (variable.type !== 'query' || variable.query === undefined) continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
    const promql = query === undefined ? undefined : variablePromQL(query);
    if (promql !== undefined) found.push({ where: `variable "${variable.name}"`, expr: promql });
  }
  return found.map((e) => ({ ...e, expr: substituteVariables(e.expr) }));
}

/**
 * GitHub's heading anchor: rendered text lowercased, everything but letters, digits, spaces, hyphens and
 * underscores dropped, each space a hyphen; a repeated anchor gets `-1`, `-2`, ...
 */
function githubAnchor(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]*>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = githubAnchor(heading[1] ?? '');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** The names a `/metrics` page exports, from its `# TYPE` lines, with the series a histogram or summary adds. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = '', type] = match;
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

// --- the checks ---

describe('metricNames', () => {
  it('finds selectors and skips functions, aggregations, clauses, strings and durations', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le) (rate(reconcile_time_bucket{job="a{b}", le!="+Inf"}[5m:1m])))',
      ),
    ).toEqual(['reconcile_time_bucket']);
    expect(
      metricNames('sum without (pod) (errors_total) / ignoring (result) group_left (x) sum(total)'),
    ).toEqual(['errors_total', 'total']);
    expect(
      metricNames('(max by (name) (leader{name="l"}) < 1) or absent(leader{name="l"}) unless on (x) other'),
    ).toEqual(['leader', 'other']);
    expect(metricNames('count(ready == bool 0) or vector(0)')).toEqual(['ready']);
    expect(metricNames('rate(a[5m] offset 1h30m) * 1e-3 + 0x1F > bool Inf')).toEqual(['a']);
    expect(
      metricNames(
        "SUM BY (le) (b) AND c # a comment naming not_a_metric\n + label_replace(d, 'x', \"$1\", 'y', '(.*)')",
      ),
    ).toEqual(['b', 'c', 'd']);
    expect(metricNames('topk(3, e) @ start()')).toEqual(['e']);
    expect(() => metricNames('{__name__="hidden"}')).toThrow(/__name__/);
  });
});

describe('the alert rules', () => {
  it('pass promtool check rules', async () => {
    await expectPromtoolOk(['check', 'rules', ALERTS]);
  });

  it('pass their promtool unit tests', async () => {
    await expectPromtoolOk(['test', 'rules', ALERT_TESTS]);
  });

  it('are each unit-tested both firing and silent', async () => {
    const tests = parse(await readFile(ALERT_TESTS, 'utf8')) as RuleTestFile;
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    const firing = new Set(cases.filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => c.alertname));
    const silent = new Set(cases.filter((c) => (c.exp_alerts ?? []).length === 0).map((c) => c.alertname));
    const names = (await alertRules()).map((r) => r.alert ?? '');
    expect(names.length).toBeGreaterThanOrEqual(5);
    expect(
      names.filter((n) => !firing.has(n)),
      'alerts with no case where they fire',
    ).toEqual([]);
    expect(
      names.filter((n) => !silent.has(n)),
      'alerts with no case where they stay silent',
    ).toEqual([]);
  });

  it('link a runbook section of docs/alerts.md that exists, headed by the alert name', async () => {
    const anchors = anchorsOf(await readFile(RUNBOOK, 'utf8'));
    for (const rule of await alertRules()) {
      const url = rule.annotations?.runbook_url ?? '';
      expect(url.startsWith(RUNBOOK_URL), `${rule.alert}: runbook_url ${url}`).toBe(true);
      const anchor = url.slice(RUNBOOK_URL.length);
      expect(anchors.has(anchor), `${rule.alert}: no heading with anchor #${anchor} in docs/alerts.md`).toBe(
        true,
      );
      expect(anchor, `${rule.alert}: its section should be headed by its name`).toBe(
        githubAnchor(rule.alert ?? ''),
      );
    }
  });

  it('runbook links to other docs point at headings that exist', async () => {
    const runbook = await readFile(RUNBOOK, 'utf8');
    for (const [, file = '', anchor = ''] of runbook.matchAll(/\]\(((?:[\w-]+\.md)?)#([^)]+)\)/g)) {
      const target = file ? path.join(REPO, 'docs', file) : RUNBOOK;
      const anchors = anchorsOf(await readFile(target, 'utf8'));
      expect(anchors.has(anchor), `docs/alerts.md links ${file}#${anchor}, which has no such heading`).toBe(
        true,
      );
    }
  });
});

describe('the Grafana dashboard', () => {
  it('has its uid, a Prometheus datasource variable, and every panel and query uses it', async () => {
    const board = await dashboard();
    expect(board.uid).toBe('cdm-sink-operator');
    expect(board.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(board.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
    );
    for (const panel of allPanels(board.panels)) {
      if (panel.type === 'row') continue;
      expect(panel.datasource?.uid, `panel "${panel.title}"`).toBe(DATASOURCE_UID);
      for (const target of panel.targets ?? [])
        expect(target.datasource?.uid, `panel "${panel.title}" query ${target.refId}`).toBe(DATASOURCE_UID);
    }
  });

  it('has only queries promtool can parse', async () => {
    const expressions = dashboardExpressions(await dashboard());
    expect(expressions.length).toBeGreaterThan(10);
    // Recording rules are the cheapest thing promtool parses PromQL in; the record name maps an error back.
    const rules = {
      groups: [
        {
          name: 'dashboard',
          rules: expressions.map((e, i) => ({ record: `dashboard:expr_${i}`, expr: e.expr })),
        },
      ],
    };
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-dashboard-'));
    try {
      const file = path.join(dir, 'dashboard-rules.yaml');
      await writeFile(file, stringify(rules));
      const { code, output } = await promtool(['check', 'rules', file]);
      if (code !== 0) {
        const rejected = [...output.matchAll(/"dashboard:expr_(\d+)"/g)].map((m) => {
          const e = expressions[Number(m[1])];
          return `${e?.where}: ${e?.expr}`;
        });
        throw new Error(
          `promtool rejected dashboard queries:\n${rejected.join('\n') || '(none named)'}\n\npromtool said:\n${output}`,
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the metrics the alerts and the dashboard use', () => {
  let api: FakeApiServer;
  let dir: string;
  let controller: ControllerProcess | undefined;
  let exported: Set<string>;

  beforeAll(async () => {
    api = await startFakeApiServer({ crds: [CRD_PATH] });
    api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: LEASE.leaseNamespace } });
    // A provision whose Secret does not exist: reconciled to Stalled (SecretNotFound) with no database, which
    // is enough for the leader to export its per-provision series.
    api.create(aSinkProvision('metrics-probe', { schema: 'cdm_metrics' }) as unknown as KubernetesObject);
    dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-monitoring-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(kubeconfig, api.kubeConfig().exportConfig());
    controller = new ControllerProcess({
      kubeconfig,
      identity: 'monitoring-a',
      leaseName: LEASE.leaseName,
      leaseNamespace: LEASE.leaseNamespace,
    });
    const started = await eventually(
      'the controller to start',
      () => {
        if (!controller?.running)
          throw new Error(`it exited: ${JSON.stringify(controller?.lines.slice(-5))}`);
        return controller.logged(/"controller started"/);
      },
      30_000,
    );
    const url = `http://127.0.0.1:${String(started.metricsPort)}/metrics`;
    const page = await eventually(
      'the leader to report the provision',
      async () => {
        const text = await (await fetch(url)).text();
        return text.includes('cdm_sink_provision_ready{') ? text : undefined;
      },
      30_000,
    );
    exported = exportedNames(page);
  }, 90_000);

  afterAll(async () => {
    await controller?.stop();
    await api?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const missingFrom = (expressions: readonly Located[]) =>
    expressions.flatMap((e) =>
      metricNames(e.expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${name} (${e.where})`),
    );

  const notExported = () =>
    `referred to, but not among the metrics of a running \`cdm-sink controller\` (${[...exported].sort().join(', ')})`;

  it('are all exported by a running controller: the alerts', async () => {
    const expressions = (await alertRules()).map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }));
    expect(missingFrom(expressions), notExported()).toEqual([]);
  });

  it('are all exported by a running controller: the dashboard', async () => {
    const expressions = dashboardExpressions(await dashboard());
    expect(missingFrom(expressions), notExported()).toEqual([]);
  });
});
