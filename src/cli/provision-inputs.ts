import type { CdmSinkProvision } from '../api/types.js';
import { type SpecError, validateProvision } from '../api/validate.js';
import { loadManifests, type ManifestDocument } from './manifests.js';

export interface ManifestError {
  readonly file: string;
  readonly document: number;
  readonly path: string;
  readonly message: string;
}

export interface ProvisionInput {
  readonly source: ManifestDocument;
  /** `<namespace>/<name>` as far as the document says. */
  readonly id: string;
  /** The document as written (reconcile validates it again and reports a Stalled status if invalid). */
  readonly raw: CdmSinkProvision;
  readonly errors: readonly SpecError[];
}

export interface Inputs {
  readonly provisions: ProvisionInput[];
  readonly secrets: ManifestDocument[];
  /** Every problem, with file, document, field path and message. */
  readonly errors: ManifestError[];
  /** The problems that are not about one provision's spec: unreadable files, bad YAML, limits. */
  readonly loadErrors: ManifestError[];
}

/** Loads and validates the manifests behind `-f` arguments. */
export async function readInputs(files: readonly string[]): Promise<Inputs> {
  const set = await loadManifests(files);
  const loadErrors: ManifestError[] = set.errors.map((e) => ({
    file: e.file,
    document: e.index,
    path: e.path,
    message: e.message,
  }));
  const errors = [...loadErrors];
  const provisions = set.provisions.map((source) => {
    const result = validateProvision(source.value);
    const meta = (source.value.metadata ?? {}) as { name?: string; namespace?: string };
    const specErrors = result.ok ? [] : result.errors;
    for (const e of specErrors)
      errors.push({ file: source.file, document: source.index, path: e.path, message: e.message });
    return {
      source,
      id: `${meta.namespace ?? 'default'}/${meta.name ?? '(unnamed)'}`,
      raw: source.value as unknown as CdmSinkProvision,
      errors: specErrors,
    };
  });
  return { provisions, secrets: set.secrets, errors, loadErrors };
}

export function formatError(e: ManifestError): string {
  return `${e.file}${e.document ? ` (document ${e.document})` : ''}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}
