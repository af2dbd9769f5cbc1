import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Document, isAlias, isMap, isScalar } from 'yaml';
import { API_GROUP, KIND } from '../api/types.js';
import { type CappedRead, limitMessages, MANIFEST_LIMITS, readCapped } from './manifest-limits.js';
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
  readonly errors: Array<{ file: string; index: number; path: string; message: string }>;
}

async function expand(target: string): Promise<string[]> {
  const info = await stat(target).catch(() => undefined);
  if (!info) throw new Error(`${target}: no such file or directory`);
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

function roleOf(doc: Document.Parsed): Role {
  const kind = field(doc, 'kind');
  const apiVersion = field(doc, 'apiVersion');
  if (kind === KIND || String(apiVersion ?? '').startsWith(`${API_GROUP}/`)) return 'provision';
  if (kind === 'Secret' && apiVersion === 'v1') return 'secret';
  return 'ignored';
}

/**
 * Reads manifests from files and folders (multi-document YAML). `CdmSinkProvision`s and Secrets are
 * kept; other kinds are ignored, so a whole GitOps folder can be passed as is. Those are recognised
 * from the parsed YAML before anything is converted to plain values, so documents of other kinds
 * (whatever their size or aliases) are never expanded. Limits: MANIFEST_LIMITS.
 */
export async function loadManifests(targets: readonly string[]): Promise<ManifestSet> {
  const set: ManifestSet = { provisions: [], secrets: [], errors: [] };
  for (const target of targets) {
    let files: string[];
    try {
      files = await expand(target);
    } catch (error) {
      set.errors.push({ file: target, index: 0, path: '', message: (error as Error).message });
      continue;
    }
    for (const file of files) await loadFile(file, set);
  }
  return set;
}

async function loadFile(file: string, set: ManifestSet): Promise<void> {
  const fail = (index: number, message: string) => set.errors.push({ file, index, path: '', message });
  let read: CappedRead;
  try {
    read = await readCapped(file);
  } catch (error) {
    fail(0, `cannot read it: ${(error as Error).message}`);
    return;
  }
  if ('tooLarge' in read) {
    fail(0, limitMessages.fileTooLarge(read.bytes));
    return;
  }
  const stream = parseStream(read.text, {
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
    if (role === 'ignored') continue;
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
