import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './cli.js';
import { killWhenWeDie } from './control-plane/managed-process.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface ControllerProcessOptions {
  readonly kubeconfig: string;
  readonly identity: string;
  /** The namespace watched; all of them when omitted. */
  readonly namespace?: string;
  readonly leaseName: string;
  readonly leaseNamespace: string;
  readonly args?: readonly string[];
  /** Node options placed before the script, e.g. `--import` of a module a test preloads. */
  readonly nodeArgs?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

export interface LogLine {
  /** pino's number (the CLI logs the label, e.g. "warn"; see LEVELS). */
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

const LEVELS: Readonly<Record<string, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/**
 * `cdm-sink controller` as its own process (the sources through tsx), its JSON log lines collected. A
 * guard kills it if the test process dies, SIGKILL included.
 */
export class ControllerProcess {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(options: ControllerProcessOptions) {
    const args = [
      ...(options.nodeArgs ?? []),
      '--import',
      TSX,
      path.join(REPO, 'src/cli/bin.ts'),
      'controller',
      `--kubeconfig=${options.kubeconfig}`,
      ...(options.namespace ? [`--namespace=${options.namespace}`] : []),
      `--identity=${options.identity}`,
      `--lease-name=${options.leaseName}`,
      `--lease-namespace=${options.leaseNamespace}`,
      '--metrics-port=0',
      '--health-port=0',
      '--log-level=debug',
      ...(options.args ?? []),
    ];
    this.child = spawn(process.execPath, args, {
      cwd: REPO,
      env: { ...process.env, KUBECONFIG: '', WATCH_NAMESPACE: '', CDM_CATALOG_URL: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    const guard = this.child.pid === undefined ? undefined : killWhenWeDie(this.child.pid);
    void this.exited.then(() => guard?.stdin?.end());
    let partial = '';
    const collect = (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          const parsed = JSON.parse(line) as { level: number | string; msg: string };
          const level = typeof parsed.level === 'string' ? (LEVELS[parsed.level] ?? 30) : parsed.level;
          this.lines.push({ ...parsed, level });
        } catch {
          this.lines.push({ level: 50, msg: line });
        }
      }
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  logged(pattern: RegExp): LogLine | undefined {
    return this.lines.find((l) => pattern.test(JSON.stringify(l)));
  }

  /** When the process logged exactly `message` (pino's `time`, milliseconds since the epoch). */
  loggedAt(message: string): number | undefined {
    const line = this.lines.find((l) => l.msg === message);
    return typeof line?.time === 'number' ? line.time : undefined;
  }

  /** Sends `signal` and waits for the exit (SIGKILL after 30 s); resolves with the exit code (null when killed). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (!this.running) return this.exited;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
