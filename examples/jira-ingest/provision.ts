import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDocument } from 'yaml';
import { startLocalServer } from '../../src/cli/local-server.js';
import { redactSecrets } from '../../src/errors/index.js';

/**
 * Provisioning for the CDM-mode unit: the worker runs the real `cdm-sink apply` as a subprocess, as a
 * deployment job or an operator would, and never issues DDL itself (the writer refuses to).
 */

const REPO = path.resolve(import.meta.dirname, '../..');
// The CLI's sources through tsx, like this example itself (an installed package runs `cdm-sink`
// instead); tsx by absolute URL, so the worker may run from a directory outside the repository.
const CLI = path.join(REPO, 'src/cli/bin.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The manifest this example provisions and writes to. */
export const PROVISION_FILE = path.join(import.meta.dirname, 'provision.yaml');

/** What the worker needs from the manifest, so schema, prefix and models are set in one place. */
export interface SinkManifest {
  /** `<namespace>/<name>`, the sink endpoint id the catalog records. */
  readonly sinkEndpointId: string;
  readonly schema: string;
  readonly tablePrefix: string;
  readonly models: readonly string[];
}

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? value : fallback;
}

/** Reads the one `CdmSinkProvision` in `file`; the CLI validates the rest when it applies it. */
export async function readSinkManifest(file: string = PROVISION_FILE): Promise<SinkManifest> {
  const doc = parseDocument(await readFile(file, 'utf8')).toJS() as {
    metadata?: { name?: unknown; namespace?: unknown };
    spec?: { endpoint?: { schema?: unknown; tablePrefix?: unknown }; models?: unknown };
  };
  const models = doc.spec?.models;
  if (!Array.isArray(models) || !models.every((m) => typeof m === 'string')) {
    throw new Error(`${file}: spec.models must list the models this worker writes`);
  }
  return {
    sinkEndpointId: `${text(doc.metadata?.namespace, 'default')}/${text(doc.metadata?.name, '')}`,
    // The CRD's defaults, so a manifest that leaves them out still matches what the CLI provisions.
    schema: text(doc.spec?.endpoint?.schema, 'cdm_work'),
    tablePrefix: typeof doc.spec?.endpoint?.tablePrefix === 'string' ? doc.spec.endpoint.tablePrefix : 'cdm_',
    models,
  };
}

export interface ProvisionOptions {
  /** The sink; without it the CLI's embedded Postgres under `<cwd>/.cdm-sink/` is used. */
  readonly databaseUrl?: string;
  readonly manifestFile?: string;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Progress lines (the CLI's output, passwords masked). */
  readonly log: (line: string) => void;
}

export interface ProvisionedSink {
  readonly databaseUrl: string;
  /** Stops the embedded Postgres this worker started, if any. */
  release(): Promise<void>;
}

/** Runs the CLI, forwarding its output as progress; resolves with its exit code. */
function runCli(args: readonly string[], options: ProvisionOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') options.log(`cdm-sink: ${redactSecrets(line)}`);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/**
 * Applies the manifest with `cdm-sink apply` and returns the sink's URL.
 *
 * With a URL, the CLI provisions that database. Without one, the CLI starts its embedded Postgres,
 * provisions it and stops it again when it exits; the worker then starts the same cluster through the
 * CLI's own `startLocalServer` (same data directory, same port, so the catalog's host and port stay
 * true) for its own writes.
 *
 * Errors: the CLI's exit code when the sink is not Ready (its output says why).
 */
export async function provisionSink(options: ProvisionOptions): Promise<ProvisionedSink> {
  const manifest = options.manifestFile ?? PROVISION_FILE;
  const args = [
    'apply',
    '-f',
    manifest,
    ...(options.databaseUrl ? ['--database-url', options.databaseUrl] : []),
  ];
  const code = await runCli(args, options);
  if (code !== 0) {
    throw new Error(`cdm-sink apply -f ${path.relative(REPO, manifest)} exited with code ${code}`);
  }
  if (options.databaseUrl) return { databaseUrl: options.databaseUrl, release: async () => {} };
  // The CLI stopped its embedded server on exit; start the same one (same data, same port) for the writes.
  const server = await startLocalServer(options.cwd, options.log);
  return { databaseUrl: server.url, release: () => server.stop() };
}
