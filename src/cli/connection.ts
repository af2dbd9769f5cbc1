import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { CdmSinkProvision } from '../api/types.js';
import { OperatorError } from '../errors/index.js';
import { type EmbeddedServer, freePort, startEmbeddedServer } from '../postgres/embedded-server.js';
import type { ManifestDocument } from './manifests.js';

export interface ConnectionOptions {
  readonly databaseUrl?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly secrets: readonly ManifestDocument[];
  readonly cwd: string;
  /** Progress messages (stderr). */
  readonly log: (line: string) => void;
}

export interface Connections {
  resolveDatabaseUrl(provision: CdmSinkProvision): Promise<string>;
  /** Stops the embedded Postgres if this run started it; its data stays under `.cdm-sink/`. */
  close(): Promise<void>;
}

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

function secretValue(secret: Record<string, unknown>, key: string): string | undefined {
  const stringData = secret.stringData as Record<string, unknown> | undefined;
  if (typeof stringData?.[key] === 'string') return stringData[key];
  const data = secret.data as Record<string, unknown> | undefined;
  if (typeof data?.[key] === 'string') return Buffer.from(data[key], 'base64').toString('utf8');
  return undefined;
}

/**
 * Where each provision's database is, in DESIGN.md §6 order: `--database-url`, `CDM_SINK_DATABASE_URL`,
 * a Secret among the manifests matching `secretRef`, else an embedded Postgres kept under `.cdm-sink/`
 * (started on first need, shared by every provision of the run).
 */
export function connections(options: ConnectionOptions): Connections {
  const fixed = options.databaseUrl ?? options.env.CDM_SINK_DATABASE_URL;
  let embedded: Promise<EmbeddedServer> | undefined;
  return {
    async resolveDatabaseUrl(provision) {
      if (fixed) return fixed;
      const ref = provision.spec.endpoint.connection.secretRef;
      const namespace = provision.metadata.namespace ?? 'default';
      const secret = options.secrets.find((s) => {
        const meta = (s.value.metadata ?? {}) as Record<string, unknown>;
        return meta.name === ref.name && (meta.namespace ?? 'default') === namespace;
      });
      if (secret) {
        const value = secretValue(secret.value, ref.key);
        if (!value) {
          throw new OperatorError(
            'SecretNotFound',
            `Secret ${namespace}/${ref.name} in ${secret.file} has no key "${ref.key}"; add it (a postgresql:// URL) or fix spec.endpoint.connection.secretRef.key`,
            false,
          );
        }
        return value;
      }
      embedded ??= (async () => {
        const home = path.join(options.cwd, '.cdm-sink');
        const dataDir = await embeddedDataDir(home, options.log);
        options.log(
          `no database URL given: starting the embedded Postgres (data in ${path.relative(options.cwd, dataDir)})`,
        );
        const server = await startEmbeddedServer({ dataDir, persistent: true, port: await stablePort(home) });
        options.log(`embedded Postgres ready at ${server.url}`);
        return server;
      })();
      return (await embedded).url;
    },
    async close() {
      if (embedded) await (await embedded).stop();
    },
  };
}
