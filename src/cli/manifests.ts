import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Document, isAlias, isMap, isScalar } from 'yaml';
import { excerpt } from '../api/excerpt.js';
import { API_GROUP, KIND } from '../api/types.js';
import { type CappedRead, limitMessages, MANIFEST_LIMITS, readCapped } from './manifest-limits.js';
import { STDIN_NAME, STDIN_TARGET } from './stdin.js';
import { parseStream } from './yaml-stream.js';

/** One YAML document and where it came from, for error messages. */
export interface ManifestDocument {
  readonly file: string;
  /** 1-based position of the document in its file. */
  readonly index: number;
  readonly value: Record<string, unknown>;
}

export interface ManifestSet {
  readonly provisions: ManifestDocument[];
  readonly secrets: ManifestDocument[];
  /** The kind of each document that was neither, for the message when no provision is found. */
  readonly ignoredKinds: string[];
  /** `index` 0: about the whole file. Messages never repeat the file name, which callers print. */
  readonly errors: Array<{ file: string; index: number; message: string }>;
  /** Every file and `-f` target in the order it was read, errors included. */
  readonly files: string[];
}

/**
 * What went wrong with a file system call, without the path Node appends (`…, open '/x'`): every
 * message is printed after the file's name already.
 */
function fsProblem(error: unknown): string {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'no such file or directory';
  const message = error instanceof Error ? error.message : String(error);
  return `cannot read it: ${message.replace(/, \w+ '.*'$/s, '')}`;
}

async function expand(target: string): Promise<string[]> {
  const info = await stat(target);
  if (!info.isDirectory()) return [target];
  // Like `kubectl apply -f DIR`: the folder's own YAML files, not its subfolders.
  const entries = await readdir(target, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && /\.(ya?ml|json)$/.test(e.name))
    .map((e) => path.join(target, e.name))
    .sort();
}

/** A top-level scalar field, read from the parsed document without converting the rest of it. */
function field(doc: Document.Parsed, name: string): unknown {
  const node = doc.get(name, true);
  const target = isAlias(node) ? node.resolve(doc) : node;
  return isScalar(target) ? target.value : undefined;
}

type Role = 'provision' | 'secret' | 'ignored';

function kindOf(doc: Document.Parsed): string {
  const kind = field(doc, 'kind');
  if (kind === undefined || kind === null) return '(no kind)';
  return typeof kind === 'string' && /^[A-Za-z0-9]{1,64}$/.test(kind) ? kind : excerpt(kind);
}

function roleOf(doc: Document.Parsed): Role {
  const kind = field(doc, 'kind');
  const apiVersion = field(doc, 'apiVersion');
  if (kind === KIND || String(apiVersion ?? '').startsWith(`${API_GROUP}/`)) return 'provision';
  if (kind === 'Secret' && apiVersion === 'v1') return 'secret';
  return 'ignored';
}

/**
 * Reads manifests from files, folders and standard input (`-`; multi-document YAML).
 * `CdmSinkProvision`s and Secrets are kept; other kinds are ignored, so a whole GitOps folder can be
 * passed as is. Those are recognised from the parsed YAML before anything is converted to plain values,
 * so documents of other kinds (whatever their size or aliases) are never expanded. Limits:
 * MANIFEST_LIMITS, for standard input as for a file.
 */
export async function loadManifests(
  targets: readonly string[],
  readStdin: () => Promise<CappedRead>,
): Promise<ManifestSet> {
  const set: ManifestSet = { provisions: [], secrets: [], ignoredKinds: [], errors: [], files: [] };
  for (const target of targets) {
    if (target === STDIN_TARGET) {
      await loadSource(STDIN_NAME, readStdin, set);
      continue;
    }
    let files: string[];
    try {
      files = await expand(target);
    } catch (error) {
      set.files.push(target);
      set.errors.push({ file: target, index: 0, message: fsProblem(error) });
      continue;
    }
    for (const file of files) await loadSource(file, () => readCapped(file), set);
  }
  return set;
}

async function loadSource(file: string, read: () => Promise<CappedRead>, set: ManifestSet): Promise<void> {
  set.files.push(file);
  const fail = (index: number, message: string) => set.errors.push({ file, index, message });
  let source: CappedRead;
  try {
    source = await read();
  } catch (error) {
    fail(0, fsProblem(error));
    return;
  }
  if ('tooLarge' in source) {
    fail(0, limitMessages.fileTooLarge(source.bytes));
    return;
  }
  const stream = parseStream(source.text, {
    documents: MANIFEST_LIMITS.documentsPerFile,
    tokens: MANIFEST_LIMITS.tokensPerFile,
  });
  // A file cut off at a limit is not used at all: half of a set of manifests is not what was meant.
  if ('over' in stream) {
    if (stream.over === 'documents') fail(stream.index, limitMessages.tooManyDocuments());
    else fail(0, limitMessages.tooManyTokens());
    return;
  }
  for (const { index, document, problem } of stream.documents) {
    if (problem) {
      fail(index, `invalid YAML: ${problem}`);
      continue;
    }
    const contents = document.contents;
    if (contents === null || (isScalar(contents) && contents.value === null)) continue;
    if (!isMap(contents)) {
      fail(index, 'a manifest must be a YAML mapping with apiVersion and kind');
      continue;
    }
    const role = roleOf(document);
    if (role === 'ignored') {
      set.ignoredKinds.push(kindOf(document));
      continue;
    }
    let value: Record<string, unknown>;
    try {
      value = document.toJS({ maxAliasCount: MANIFEST_LIMITS.aliasesPerDocument }) as Record<string, unknown>;
    } catch (error) {
      fail(
        index,
        /alias count/i.test((error as Error).message)
          ? limitMessages.tooManyAliases()
          : `invalid YAML: ${(error as Error).message.slice(0, 300)}`,
      );
      continue;
    }
    (role === 'provision' ? set.provisions : set.secrets).push({ file, index, value });
  }
}
