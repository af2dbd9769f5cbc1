import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseDuration } from '../reconcile/duration.js';

/** Controller settings as the command line and environment give them (DESIGN.md §6 `controller`). */
export interface ControllerFlags {
  readonly kubeconfig?: string;
  /** Namespaces to watch; empty means all. */
  readonly namespaces: readonly string[];
  readonly concurrency: number;
  readonly resyncPeriodMs: number;
  readonly metricsPort: number;
  readonly healthPort: number;
  readonly catalogUrl?: string;
  readonly leaderElect: boolean;
  readonly leaseName: string;
  readonly leaseNamespace?: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly shutdownTimeoutMs: number;
  readonly logLevel: LogLevel;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `Usage: cdm-sink controller [flags]

Runs the CdmSinkProvision controller. Flags fall back to the environment variable shown.

  --kubeconfig PATH         kubeconfig file (KUBECONFIG; else in-cluster; else ~/.kube/config)
  --namespace NS            namespace to watch; repeat or comma-separate (WATCH_NAMESPACE; empty = all)
  --concurrency N           provisions reconciled at once (default 4)
  --resync-period DURATION  how often every provision is looked at again, e.g. 30s, 10m (default 10m)
  --metrics-port PORT       /metrics port (METRICS_PORT; default 8080)
  --health-port PORT        /healthz and /readyz port (HEALTH_PORT; default 8081)
  --catalog-url URL         catalog database (CDM_CATALOG_URL; default: each sink's own database)
  --leader-elect[=BOOL]     run workers only on the Lease holder (LEADER_ELECT; default true)
  --lease-name NAME         Lease name (default cdm-sink-controller)
  --lease-namespace NS      Lease namespace (POD_NAMESPACE; default the kubeconfig namespace)
  --identity ID             this replica's holder identity (POD_NAME; default hostname_random)
  --lease-duration D        (default 15s)   --renew-deadline D (default 10s)   --retry-period D (default 2s)
  --shutdown-timeout D      whole graceful shutdown on SIGTERM; keep it under the pod's grace period (default 25s)
  --log-level LEVEL         ${LOG_LEVELS.join(', ')} (LOG_LEVEL; default info)
  -h, --help                show this help
`;

type FlagKind = 'string' | 'list' | 'boolean';
const FLAGS: Readonly<Record<string, FlagKind>> = {
  kubeconfig: 'string',
  namespace: 'list',
  concurrency: 'string',
  'resync-period': 'string',
  'metrics-port': 'string',
  'health-port': 'string',
  'catalog-url': 'string',
  'leader-elect': 'boolean',
  'lease-name': 'string',
  'lease-namespace': 'string',
  identity: 'string',
  'lease-duration': 'string',
  'renew-deadline': 'string',
  'retry-period': 'string',
  'shutdown-timeout': 'string',
  'log-level': 'string',
  help: 'boolean',
};

/** `--name value`, `--name=value`, booleans as `--flag` or `--flag=false`; lists repeat. */
function scan(argv: readonly string[]): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') {
      values.set('help', ['true']);
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = FLAGS[name];
    if (!kind) throw new UsageError(`unknown flag --${name}`);
    let value = eq < 0 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      if (kind === 'boolean') value = 'true';
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UsageError(`--${name} needs a value`);
    }
    values.set(name, [...(values.get(name) ?? []), value!]);
  }
  return values;
}

function last(values: Map<string, string[]>, name: string): string | undefined {
  return values.get(name)?.at(-1);
}

function integer(text: string, what: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
    throw new UsageError(`${what} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function duration(text: string, what: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    throw new UsageError(
      `${what} must be a duration like 500ms, 30s, 10m or 1h, got ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

function boolean(text: string, what: string): boolean {
  if (/^(true|1|yes)$/i.test(text)) return true;
  if (/^(false|0|no)$/i.test(text)) return false;
  throw new UsageError(`${what} must be true or false, got ${JSON.stringify(text)}`);
}

function list(texts: readonly string[]): string[] {
  return texts
    .flatMap((t) => t.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
}

/** Parses flags with their environment fallbacks; throws `UsageError` (exit 2), or returns 'help'. */
export function parseControllerFlags(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): ControllerFlags | 'help' {
  const flags = scan(argv);
  if (flags.has('help')) return 'help';
  const pick = (name: string, envName?: string) => last(flags, name) ?? (envName ? env[envName] : undefined);
  const text = (name: string, envName?: string) => {
    const value = pick(name, envName)?.trim();
    return value ? value : undefined;
  };
  const logLevel = (pick('log-level', 'LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new UsageError(
      `--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`,
    );
  }
  const parsed: ControllerFlags = {
    kubeconfig: text('kubeconfig'),
    namespaces: list(flags.get('namespace') ?? (env.WATCH_NAMESPACE ? [env.WATCH_NAMESPACE] : [])),
    concurrency: integer(pick('concurrency') ?? '4', '--concurrency', 1, 256),
    resyncPeriodMs: duration(pick('resync-period') ?? '10m', '--resync-period'),
    metricsPort: integer(pick('metrics-port', 'METRICS_PORT') ?? '8080', '--metrics-port', 0, 65535),
    healthPort: integer(pick('health-port', 'HEALTH_PORT') ?? '8081', '--health-port', 0, 65535),
    catalogUrl: text('catalog-url', 'CDM_CATALOG_URL'),
    leaderElect: boolean(pick('leader-elect', 'LEADER_ELECT') ?? 'true', '--leader-elect'),
    leaseName: text('lease-name') ?? 'cdm-sink-controller',
    leaseNamespace: text('lease-namespace', 'POD_NAMESPACE'),
    identity: text('identity', 'POD_NAME') ?? `${os.hostname()}_${randomBytes(6).toString('hex')}`,
    leaseDurationMs: duration(pick('lease-duration') ?? '15s', '--lease-duration'),
    renewDeadlineMs: duration(pick('renew-deadline') ?? '10s', '--renew-deadline'),
    retryPeriodMs: duration(pick('retry-period') ?? '2s', '--retry-period'),
    shutdownTimeoutMs: duration(pick('shutdown-timeout') ?? '25s', '--shutdown-timeout'),
    logLevel,
  };
  if (
    parsed.leaderElect &&
    !(parsed.leaseDurationMs > parsed.renewDeadlineMs && parsed.renewDeadlineMs > 1.2 * parsed.retryPeriodMs)
  ) {
    throw new UsageError('lease timings must satisfy lease-duration > renew-deadline > 1.2 × retry-period');
  }
  return parsed;
}
