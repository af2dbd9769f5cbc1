import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { API_GROUP, KIND } from '../api/types.js';

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

/**
 * Reads manifests from files and folders (multi-document YAML). `CdmSinkProvision`s and Secrets are
 * kept; other kinds are ignored, so a whole GitOps folder can be passed as is.
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
    for (const file of files) {
      const documents = parseAllDocuments(await readFile(file, 'utf8'));
      for (const [i, doc] of (Array.isArray(documents) ? documents : [documents]).entries()) {
        if (doc.errors.length > 0) {
          set.errors.push({
            file,
            index: i + 1,
            path: '',
            message: `invalid YAML: ${doc.errors[0]!.message}`,
          });
          continue;
        }
        const value = doc.toJS() as unknown;
        if (value === null || value === undefined) continue;
        if (typeof value !== 'object' || Array.isArray(value)) {
          set.errors.push({
            file,
            index: i + 1,
            path: '',
            message: 'a manifest must be a YAML mapping with apiVersion and kind',
          });
          continue;
        }
        const record = value as Record<string, unknown>;
        const entry = { file, index: i + 1, value: record };
        if (record.kind === KIND || String(record.apiVersion ?? '').startsWith(`${API_GROUP}/`))
          set.provisions.push(entry);
        else if (record.kind === 'Secret' && record.apiVersion === 'v1') set.secrets.push(entry);
      }
    }
  }
  return set;
}
