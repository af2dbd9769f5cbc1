import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../integration/controller-env.js';
import { ManagedProcess } from './managed-process.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MODULE = pathToFileURL(path.join(import.meta.dirname, 'managed-process.ts')).href;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('ManagedProcess', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'managed-process-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('stops its server gracefully, and the log tail says what it printed', async () => {
    const server = new ManagedProcess(
      'echo-sleep',
      'sh',
      ['-c', 'echo started; exec sleep 300'],
      path.join(dir, 'a.log'),
    );
    await eventually('the log written', () => server.tail().includes('started'));
    expect(server.running).toBe(true);
    await server.stop();
    expect(server.running).toBe(false);
  });

  it('leaves no server behind when the process that started it is killed with SIGKILL', async () => {
    // A test run killed outright: no exit handler runs, only the guard's closed pipe says so.
    const script = `
      const { ManagedProcess } = await import(${JSON.stringify(MODULE)});
      const server = new ManagedProcess('sleeper', 'sleep', ['300'], ${JSON.stringify(path.join(dir, 'b.log'))});
      console.log(server.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = await new Promise<number>((resolve) =>
      parent.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
    );
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    await eventually('the server gone', () => !alive(pid), 10_000);
  });
});
