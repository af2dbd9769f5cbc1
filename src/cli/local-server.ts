import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type EmbeddedServer, freePort, startEmbeddedServer } from '../postgres/embedded-server.js';

/**
 * The embedded server keeps its port across runs: the catalog records host and port, and a port that
 * changed every run would make every run re-register every dataset.
 */
async function stablePort(home: string): Promise<number> {
  const file = path.join(home, 'port');
  const saved = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(saved) && saved > 0 && (await isFree(saved))) return saved;
  const port = await freePort();
  await mkdir(home, { recursive: true });
  await writeFile(file, `${port}\n`);
  return port;
}

/**
 * Postgres refuses to run as root, so as root it runs as a `postgres` system user, which must be able
 * to reach the data directory. Inside a folder closed to others (a 0700 home or temp dir) it cannot;
 * then the data goes to a per-project folder in the system temp dir instead, and we say so.
 */
async function embeddedDataDir(home: string, log: (line: string) => void): Promise<string> {
  const preferred = path.join(home, 'pg');
  if (process.getuid?.() !== 0) return preferred;
  for (let dir = path.dirname(home); ; dir = path.dirname(dir)) {
    const mode = (await stat(dir)).mode;
    if ((mode & 0o001) === 0) {
      const fallback = path.join(
        os.tmpdir(),
        `cdm-sink-${createHash('sha256').update(home).digest('hex').slice(0, 12)}`,
        'pg',
      );
      log(`${dir} is closed to the postgres system user; keeping the embedded data in ${fallback} instead`);
      return fallback;
    }
    if (dir === path.dirname(dir)) return preferred;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Starts the project-local embedded Postgres the CLI uses when no database URL is given: data under
 * `<cwd>/.cdm-sink/pg`, the same port on every run. Workers of the same project (the examples) call
 * this too, so they reach the very database `cdm-sink apply` provisioned.
 */
export async function startLocalServer(cwd: string, log: (line: string) => void): Promise<EmbeddedServer> {
  const home = path.join(cwd, '.cdm-sink');
  const dataDir = await embeddedDataDir(home, log);
  log(`starting the embedded Postgres (data in ${path.relative(cwd, dataDir)})`);
  const server = await startEmbeddedServer({ dataDir, persistent: true, port: await stablePort(home) });
  log(`embedded Postgres ready at ${server.url}`);
  return server;
}
