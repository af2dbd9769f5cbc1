import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JiraSource } from './jira-source.js';
import type { JiraIssue } from './jira-types.js';
import { runRawUnit } from './raw-sink.js';

const HERE = import.meta.dirname;

interface ImportSite {
  readonly specifier: string;
  readonly dynamic: boolean;
}

/** Every module specifier `file` imports or re-exports, statically or with `import()`. */
async function importsOf(file: string): Promise<ImportSite[]> {
  const source = ts.createSourceFile(file, await readFile(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: ImportSite[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push({ specifier: node.moduleSpecifier.text, dynamic: false });
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      found.push({ specifier: arg && ts.isStringLiteral(arg) ? arg.text : '<computed>', dynamic: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The files `entry` reaches through relative imports (type-only ones too), plus every bare specifier. */
async function importGraph(entry: string): Promise<{ files: string[]; packages: string[] }> {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const { specifier } of await importsOf(file)) {
      if (!specifier.startsWith('.')) {
        packages.add(specifier);
        continue;
      }
      // NodeNext: sources import `./x.js`, the file on disk is `./x.ts`.
      pending.push(path.resolve(path.dirname(file), specifier).replace(/\.js$/, '.ts'));
    }
  }
  return { files: [...files].map((f) => path.relative(HERE, f)).sort(), packages: [...packages].sort() };
}

describe('raw-sink.ts import graph', () => {
  it('reaches no writer, no mapper and nothing outside this example: only Node built-ins', async () => {
    const graph = await importGraph(path.join(HERE, 'raw-sink.ts'));
    expect(graph.files).toEqual(['jira-source.ts', 'jira-types.ts', 'raw-sink.ts']);
    expect(graph.packages.filter((p) => !p.startsWith('node:'))).toEqual([]);
  });

  it('worker.ts loads the CDM unit (and with it the writer) only through import() in the cdm branch', async () => {
    const sites = await importsOf(path.join(HERE, 'worker.ts'));
    const staticImports = sites.filter((s) => !s.dynamic).map((s) => s.specifier);
    expect(
      staticImports.some((s) => s.includes('writer') || s.includes('cdm-unit') || s.includes('provision')),
    ).toBe(false);
    expect(sites.filter((s) => s.dynamic).map((s) => s.specifier)).toEqual([
      './provision.js',
      './cdm-unit.js',
      './raw-sink.js',
    ]);
    const cdmUnit = await importsOf(path.join(HERE, 'cdm-unit.ts'));
    expect(cdmUnit.map((s) => s.specifier)).toContain('cdm-sink-operator/writer');
  });
});

async function* from<T>(values: readonly T[], failAfter?: number): AsyncIterable<T> {
  let n = 0;
  for (const value of values) {
    if (failAfter !== undefined && n === failAfter) throw new Error('source connection reset');
    n += 1;
    yield value;
  }
}

function source(issues: readonly JiraIssue[], failAfter?: number): JiraSource {
  return {
    projects: () => from([{ id: '1', key: 'A', name: 'Alpha', customfield: { nested: [1, null, 'ü'] } }]),
    users: () => from([{ accountId: 'u1', emailAddress: null }]),
    issues: () => from(issues, failAfter),
  };
}

const issue = (id: string): JiraIssue =>
  ({ id, key: `A-${id}`, fields: { summary: `line one\nline two ${id}` } }) as unknown as JiraIssue;

describe('runRawUnit', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'raw-sink-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes one JSON document per line, byte for byte what the source returned', async () => {
    const results = await runRawUnit(source([issue('1'), issue('2')]), { outDir: dir, site: 'a.example' });
    expect(results.map((r) => [r.entity, r.records, path.relative(dir, r.file)])).toEqual([
      ['project', 1, 'a.example/project.ndjson'],
      ['user', 1, 'a.example/user.ndjson'],
      ['issue', 2, 'a.example/issue.ndjson'],
    ]);
    const text = await readFile(path.join(dir, 'a.example/issue.ndjson'), 'utf8');
    expect(text).toBe(`${JSON.stringify(issue('1'))}\n${JSON.stringify(issue('2'))}\n`);
    const project = JSON.parse(await readFile(path.join(dir, 'a.example/project.ndjson'), 'utf8'));
    expect(project.customfield).toEqual({ nested: [1, null, 'ü'] });
  });

  it('replaces the previous snapshot, and a failed read keeps it and leaves no partial file', async () => {
    await runRawUnit(source([issue('1'), issue('2')]), { outDir: dir, site: 'a.example' });
    await runRawUnit(source([issue('3')]), { outDir: dir, site: 'a.example' });
    const file = path.join(dir, 'a.example/issue.ndjson');
    expect(await readFile(file, 'utf8')).toBe(`${JSON.stringify(issue('3'))}\n`);

    await expect(
      runRawUnit(source([issue('4'), issue('5')], 1), { outDir: dir, site: 'a.example' }),
    ).rejects.toThrow('source connection reset');
    expect(await readFile(file, 'utf8')).toBe(`${JSON.stringify(issue('3'))}\n`);
    expect((await readdir(path.join(dir, 'a.example'))).sort()).toEqual([
      'issue.ndjson',
      'project.ndjson',
      'user.ndjson',
    ]);
    expect(existsSync(`${file}.partial-${process.pid}`)).toBe(false);
  });
});
