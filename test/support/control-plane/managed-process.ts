import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/**
 * A shell that SIGKILLs `pid` once its standard input closes: when `guard.stdin.end()` is called, or
 * when this process dies in any way, SIGKILL included, where no exit handler runs.
 */
export function killWhenWeDie(pid: number): ChildProcess {
  const guard = spawn('sh', ['-c', 'read -r _; kill -KILL "$1" 2>/dev/null', 'guard', String(pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // The guard never keeps the test process alive.
  guard.unref();
  (guard.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return guard;
}

/**
 * A server binary the tests started, with its output in `logFile`. A guard shell holds a pipe from this
 * process and kills the server when the pipe closes, so a test run that is interrupted or killed
 * (SIGKILL included) never leaves etcd or kube-apiserver behind.
 */
export class ManagedProcess {
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly guard: ChildProcess;

  constructor(
    readonly name: string,
    binary: string,
    args: readonly string[],
    readonly logFile: string,
  ) {
    const log = openSync(logFile, 'a');
    try {
      this.child = spawn(binary, args, { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`could not start ${name} (${binary})`);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.guard = killWhenWeDie(pid);
    this.child.unref();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines of the log, for errors that say why a server would not start. */
  tail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM (graceful) or SIGKILL; waits for the exit, escalating to SIGKILL after `graceMs`. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (this.running) {
      this.child.kill(signal);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    this.guard.stdin?.end();
  }
}
