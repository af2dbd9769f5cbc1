import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Which files importing one module loads, observed in a fresh `node` process rather than read from the
 * source: the process itself is the witness, so a lazy `import()`, a re-export or a package's own
 * dependencies are counted exactly as they load.
 *
 * ES modules are seen by a resolve hook (`module-trace-hooks.mjs`, registered with `module.register`);
 * CommonJS modules loaded by `require` (pg's internals, for instance) never pass through it, so the
 * `require` cache is read as well. Files already loaded before the import (tsx itself) are left out.
 */

const HOOKS = pathToFileURL(path.join(import.meta.dirname, 'module-trace-hooks.mjs')).href;
// Absolute, so tracing also works from a directory without tsx, e.g. an installed tarball.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MARKER = '\u0000module-trace:';

export interface TraceOptions {
  /** Working directory of the traced process; a bare `entry` resolves from here. */
  readonly cwd: string;
  /** Load TypeScript sources through tsx. */
  readonly tsx?: boolean;
}

/** What the traced process runs; `entryUrl` is a bare specifier or a `file:` URL. */
function driverScript(entryUrl: string): string {
  return `
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const resolved = [];
let flushed;
const allReceived = new Promise((resolve) => { flushed = resolve; });
port1.on('message', (message) => (message === 'flushed' ? flushed() : resolved.push(message)));
register(${JSON.stringify(HOOKS)}, { data: { port: port2 }, transferList: [port2] });
const cache = createRequire(import.meta.url).cache;
const before = new Set(Object.keys(cache));
await import(${JSON.stringify(entryUrl)});
port1.postMessage('flush');
await allReceived;
port1.close();
const required = Object.keys(cache).filter((file) => !before.has(file));
process.stdout.write(${JSON.stringify(MARKER)} + JSON.stringify({ resolved, required }) + '\\n', () => process.exit(0));
`;
}

function isPath(entry: string): boolean {
  return path.isAbsolute(entry) || entry.startsWith('./') || entry.startsWith('../');
}

/**
 * Imports `entry` (a bare specifier such as `cdm-sink-operator/writer`, resolved from `cwd`, or a file
 * path, absolute or relative to `cwd`) in a new `node` process and returns the absolute paths of the
 * files that import loaded, sorted. Node's built-in modules are not files and are not listed.
 */
export function traceModuleLoads(entry: string, options: TraceOptions): Promise<string[]> {
  const entryUrl = isPath(entry) ? pathToFileURL(path.resolve(options.cwd, entry)).href : entry;
  const args = [
    ...(options.tsx ? ['--import', TSX] : []),
    '--input-type=module',
    '--eval',
    driverScript(entryUrl),
  ];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { cwd: options.cwd, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith(MARKER));
        if (error || line === undefined) {
          // Not error.message: it repeats the whole driver script.
          const status = error ? `exit code ${error.code}` : 'no trace printed';
          reject(new Error(`tracing ${entry} failed (${status}):\n${stderr}`));
          return;
        }
        const { resolved, required } = JSON.parse(line.slice(MARKER.length)) as {
          resolved: string[];
          required: string[];
        };
        const files = [
          ...resolved.filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url)),
          ...required,
        ];
        resolve([...new Set(files)].sort());
      },
    );
  });
}

/** The package a `node_modules` path belongs to (the innermost one), or undefined for a source file. */
export function packageOf(file: string): string | undefined {
  return /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(file)?.[1];
}
