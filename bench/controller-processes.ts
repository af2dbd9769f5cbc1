import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/postgres/embedded-server.js';

// The processes the controller benchmark runs apart from itself, so each one's cost is its own.

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The fake API server child (bench/fake-apiserver-process.ts) and its request counts. */
export class FakeApiProcess {
  private readonly waiting: Array<(line: string) => void> = [];

  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    lines: ReturnType<typeof createInterface>,
  ) {
    lines.on('line', (line) => this.waiting.shift()?.(line));
  }

  static async start(): Promise<FakeApiProcess> {
    const script = fileURLToPath(new URL('./fake-apiserver-process.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! });
    const [first] = (await once(lines, 'line')) as [string];
    return new FakeApiProcess((JSON.parse(first) as { url: string }).url, child, lines);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  requests(): Promise<Record<string, number>> {
    return new Promise((resolve) => {
      this.waiting.push((line) => resolve(JSON.parse(line) as Record<string, number>));
      this.child.stdin!.write('requests\n');
    });
  }

  async close(): Promise<void> {
    this.child.stdin!.end();
    if (this.child.exitCode === null) await once(this.child, 'exit');
  }
}

/** `cdm-sink controller`, as the container runs it (the compiled dist/cli/bin.js, plain node). */
export class ControllerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly metricsPort: number,
    readonly healthPort: number,
  ) {}

  static async start(options: {
    kubeconfig: string;
    identity: string;
    concurrency: number;
    leaseNamespace: string;
    logDir: string;
    /** `NODE_OPTIONS` for the controller, as the Deployment sets it. */
    nodeOptions: string;
  }): Promise<ControllerProcess> {
    const { kubeconfig, identity, concurrency, leaseNamespace, logDir, nodeOptions } = options;
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    const log = openSync(path.join(logDir, `${identity}.log`), 'a');
    const args = [
      path.join(ROOT, 'dist/cli/bin.js'),
      'controller',
      `--kubeconfig=${kubeconfig}`,
      `--concurrency=${concurrency}`,
      `--metrics-port=${metricsPort}`,
      `--health-port=${healthPort}`,
      '--leader-elect=true',
      `--lease-namespace=${leaseNamespace}`,
      `--identity=${identity}`,
      '--log-level=warn',
    ];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', log, log],
      env: { ...process.env, NODE_OPTIONS: nodeOptions },
    });
    return new ControllerProcess(child, metricsPort, healthPort);
  }

  async ready(): Promise<boolean> {
    try {
      return (await fetch(`http://127.0.0.1:${this.healthPort}/readyz`)).status === 200;
    } catch {
      return false;
    }
  }

  /** The sum over all series of a metric from `/metrics`. */
  async metric(name: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
    const pattern = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm');
    return [...text.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Peak resident set size so far (Linux VmHWM), in MB. */
  async peakRssMb(): Promise<number> {
    const status = await readFile(`/proc/${this.child.pid}/status`, 'utf8');
    return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
  }

  async rssMb(): Promise<number> {
    const status = await readFile(`/proc/${this.child.pid}/status`, 'utf8');
    return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
  }

  /**
   * SIGTERM, then the exit code once it has shut down; SIGKILL after `graceMs`, so a hung shutdown
   * cannot hold up the bench's cleanup. Also safe on a process that is gone already (crashed or killed).
   */
  async stop(graceMs = 30_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = once(this.child, 'exit') as Promise<[number | null]>;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const [code] = await exited;
    clearTimeout(timer);
    return code;
  }
}
