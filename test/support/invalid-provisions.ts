import { writeFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { runCli } from './cli.js';

/**
 * The invalid manifests the CLI's `validate` tests use, each with what the CLI must say and what the
 * real API server answers for the same object (test/cluster/api-schema.test.ts): one list, so a case
 * added for the CLI is checked against kube-apiserver too.
 */
export interface InvalidProvision {
  readonly name: string;
  /** One YAML document. */
  readonly yaml: string;
  /** The field the CLI names (`<path>: ...` in its error line). */
  readonly path: string;
  /** The rest of the CLI's error line. */
  readonly cli: RegExp;
  /**
   * What kube-apiserver answers to a create with `fieldValidation=Strict` (kubectl's default): the HTTP
   * status and the field its message names. Where it cannot see the problem, `accepted` says why.
   */
  readonly api: { code: 400 | 422; field: string } | { code: 404 } | { accepted: string };
}

const doc = (name: string, spec: string, apiVersion = 'cdm.nucleus.io/v1alpha1') =>
  `apiVersion: ${apiVersion}\nkind: CdmSinkProvision\nmetadata: { name: ${name}, namespace: ns }\nspec:\n${spec}`;
const endpoint = (extra = '') =>
  `  endpoint:\n    templateId: cdm.jdbc\n    connection: { secretRef: { name: s } }\n${extra}`;

/** Spec errors: the document order of the CLI test's multi-document file. */
export const INVALID_SPECS: readonly InvalidProvision[] = [
  {
    name: 'unknown-model',
    yaml: doc('unknown-model', `${endpoint()}  models: [cdm.work.item, cdm.work.sprint]\n`),
    path: 'spec.models[1]',
    cli: /unsupported model; the cdm\.jdbc template supports: "cdm\.work\.project"/,
    api: { code: 422, field: 'spec.models[1]' },
  },
  {
    name: 'duplicate',
    yaml: doc('duplicate', `${endpoint()}  models: [cdm.work.item, cdm.work.item]\n`),
    path: 'spec.models',
    cli: /lists "cdm\.work\.item" twice/,
    api: { code: 422, field: 'spec.models[1]' },
  },
  {
    name: 'bad-schema',
    yaml: doc('bad-schema', endpoint('    schema: "cdm; drop table x"\n')),
    path: 'spec.endpoint.schema',
    cli: /"cdm; drop table x" does not match/,
    api: { code: 422, field: 'spec.endpoint.schema' },
  },
  {
    name: 'long-prefix',
    yaml: doc('long-prefix', endpoint('    tablePrefix: abcdefghijklmnopqrstuvwxyz_0123\n')),
    path: 'spec.endpoint.tablePrefix',
    cli: /longer than 26 characters/,
    api: { code: 422, field: 'spec.endpoint.tablePrefix' },
  },
  {
    name: 'no-secret',
    yaml: doc('no-secret', '  endpoint:\n    templateId: cdm.jdbc\n    connection: {}\n'),
    path: 'spec.endpoint.connection.secretRef',
    cli: /is required/,
    api: { code: 422, field: 'spec.endpoint.connection.secretRef' },
  },
  {
    name: 'unknown-field',
    yaml: doc('unknown-field', `${endpoint()}  modles: [cdm.work.item]\n`),
    path: 'spec.modles',
    cli: /unknown field/,
    api: { code: 400, field: 'spec.modles' },
  },
  {
    name: 'wrong-version',
    yaml: doc('wrong-version', endpoint(), 'cdm.nucleus.io/v1'),
    path: 'apiVersion',
    cli: /is "cdm\.nucleus\.io\/v1"; use cdm\.nucleus\.io\/v1alpha1/,
    // No such version is served: a bare 404 (kubectl says "no matches for kind").
    api: { code: 404 },
  },
  {
    name: 'many-labels',
    yaml: doc(
      'many-labels',
      `${endpoint()}  catalog:\n    labels: { ${Array.from({ length: 65 }, (_, i) => `l${i}: v`).join(', ')} }\n`,
    ),
    path: 'spec.catalog.labels',
    cli: /more than 64/,
    api: { code: 422, field: 'spec.catalog.labels' },
  },
];

/** YAML double-quoted escapes: `\0` is NUL, `\uD800` a lone surrogate. */
const withCatalog = (name: string, catalog: string) =>
  `apiVersion: cdm.nucleus.io/v1alpha1\nkind: CdmSinkProvision\nmetadata: { name: ${name}, namespace: ns }\nspec:\n  endpoint: { templateId: cdm.jdbc, connection: { secretRef: { name: s } } }\n  models: [cdm.work.user]\n  catalog:\n${catalog}`;

const SURROGATE =
  'JSON cannot carry a lone surrogate to the API server: its decoder turns it into U+FFFD, which is valid';

/** Catalog strings Postgres could not store (NUL) or that are not Unicode (lone surrogates). */
export const INVALID_CATALOG_STRINGS: readonly InvalidProvision[] = [
  {
    name: 'nul-value',
    yaml: withCatalog('nul-value', '    labels: { team: "ana\\0lytics" }\n'),
    path: 'spec.catalog.labels.team',
    cli: /NUL/,
    api: { code: 422, field: 'spec.catalog.labels.team' },
  },
  {
    name: 'nul-domain',
    yaml: withCatalog('nul-domain', '    domain: "cdm\\0work"\n'),
    path: 'spec.catalog.domain',
    cli: /NUL/,
    api: { code: 422, field: 'spec.catalog.domain' },
  },
  {
    name: 'nul-key',
    yaml: withCatalog('nul-key', '    labels: { "te\\0am": x }\n'),
    path: 'spec.catalog.labels["te\\u0000am"]',
    cli: /is not a valid label key/,
    api: { code: 422, field: 'spec.catalog.labels' },
  },
  {
    name: 'surrogate-value',
    yaml: withCatalog('surrogate-value', '    labels: { team: "x\\uD800" }\n'),
    path: 'spec.catalog.labels.team',
    cli: /surrogate/,
    api: { accepted: SURROGATE },
  },
  {
    name: 'surrogate-domain',
    yaml: withCatalog('surrogate-domain', '    domain: "\\uDC00cdm"\n'),
    path: 'spec.catalog.domain',
    cli: /surrogate/,
    api: { accepted: SURROGATE },
  },
];

/**
 * `cdm-sink validate` of every case, as documents of one `file`: exit 1, and for each case a line naming
 * the file, its document and its field, then the CLI's message for it.
 */
export async function expectValidateRejectsEach(
  file: string,
  cases: readonly InvalidProvision[],
): Promise<void> {
  await writeFile(file, cases.map((c) => c.yaml).join('---\n'));
  const result = await runCli(['validate', '-f', file]);
  expect(result.code).toBe(1);
  const lines = result.stderr.split('\n');
  cases.forEach((c, i) => {
    const prefix = `invalid ${file} (document ${i + 1}): ${c.path}: `;
    expect(
      lines.some((l) => l.startsWith(prefix) && c.cli.test(l.slice(prefix.length))),
      `${c.name}: ${prefix}${c.cli}\n${result.stderr}`,
    ).toBe(true);
  });
}
