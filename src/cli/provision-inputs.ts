import type { CdmSinkProvision } from '../api/types.js';
import { type SpecError, validateProvision } from '../api/validate.js';
import { redactSecrets } from '../errors/redact.js';
import { type CliError, cliError } from './envelope.js';
import type { CappedRead } from './manifest-limits.js';
import { loadManifests, type ManifestDocument } from './manifests.js';

export interface ProvisionInput {
  readonly source: ManifestDocument;
  /** `<namespace>/<name>` as far as the document says. */
  readonly id: string;
  /** The document as written (reconcile validates it again and fills in the defaults). */
  readonly raw: CdmSinkProvision;
  readonly errors: readonly SpecError[];
}

export interface Inputs {
  readonly provisions: ProvisionInput[];
  readonly secrets: ManifestDocument[];
  /**
   * Every problem with the input, in file and document order: files that cannot be read, invalid YAML,
   * limits, invalid specs, or no provision at all. Any of them stops every command before a database.
   */
  readonly errors: CliError[];
}

const NO_PROVISIONS = 'no CdmSinkProvision found in the given manifests';

function noProvisionsMessage(ignoredKinds: readonly string[]): string {
  if (ignoredKinds.length === 0) return `${NO_PROVISIONS} (they hold no YAML documents)`;
  const kinds = [...new Set(ignoredKinds)].sort();
  const listed =
    kinds.length > 5 ? `${kinds.slice(0, 5).join(', ')} and ${kinds.length - 5} more` : kinds.join(', ');
  const documents =
    ignoredKinds.length === 1
      ? '1 document of another kind'
      : `${ignoredKinds.length} documents of other kinds`;
  return `${NO_PROVISIONS} (${documents} ignored: ${listed})`;
}

function idOf(document: Record<string, unknown>): string {
  const meta = (document.metadata ?? {}) as Record<string, unknown>;
  const part = (value: unknown, fallback: string) =>
    typeof value === 'string' && value !== '' ? value : fallback;
  return `${part(meta.namespace, 'default')}/${part(meta.name, '(unnamed)')}`;
}

/** Loads and validates the manifests behind `-f` arguments; `readStdin` serves `-f -`. */
export async function readInputs(
  files: readonly string[],
  readStdin: () => Promise<CappedRead>,
): Promise<Inputs> {
  const set = await loadManifests(files, readStdin);
  // A manifest may hold a connection URL (a Secret's), and a YAML error can quote the line it is on.
  const errors: CliError[] = set.errors.map((e) =>
    cliError({
      file: e.file,
      document: e.index || null,
      reason: 'InvalidManifest',
      message: redactSecrets(e.message),
    }),
  );
  const provisions = set.provisions.map((source) => {
    const result = validateProvision(source.value);
    const id = idOf(source.value);
    const specErrors = result.ok ? [] : result.errors;
    for (const e of specErrors)
      errors.push(
        cliError({
          provision: id,
          file: source.file,
          document: source.index,
          path: e.path,
          reason: e.reason,
          message: redactSecrets(e.message),
        }),
      );
    return { source, id, raw: source.value as unknown as CdmSinkProvision, errors: specErrors };
  });
  if (errors.length === 0 && provisions.length === 0) {
    const ignoredKinds = [...set.ignoredKinds, ...set.secrets.map(() => 'Secret')];
    errors.push(cliError({ reason: 'NoProvisions', message: noProvisionsMessage(ignoredKinds) }));
  }
  const order = new Map(set.files.map((file, i) => [file, i]));
  const position = (e: CliError) => [order.get(e.file ?? '') ?? -1, e.document ?? 0] as const;
  // Stable: within one document, errors keep the order validation found them in.
  errors.sort((a, b) => {
    const [fileA, docA] = position(a);
    const [fileB, docB] = position(b);
    return fileA - fileB || docA - docB;
  });
  return { provisions, secrets: set.secrets, errors };
}
