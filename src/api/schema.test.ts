import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CRD_FILE } from './crd.js';
import { SPEC_SCHEMA } from './schema.js';
import { strictSchema } from './strict-schema.js';

function patternsIn(node: unknown, at = ''): Array<[string, string]> {
  if (Array.isArray(node)) return node.flatMap((n, i) => patternsIn(n, `${at}[${i}]`));
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'pattern' && typeof value === 'string' ? [[at, value]] : patternsIn(value, `${at}.${key}`),
  );
}

describe('the CRD schema patterns', () => {
  it('keep NUL out of catalog labels and domain with a pattern RE2 and JavaScript read alike', async () => {
    const crd = parse(await readFile(path.resolve(import.meta.dirname, '../..', CRD_FILE), 'utf8'));
    const patterns = patternsIn(crd);
    const catalog = patterns.filter(([at]) => at.includes('.catalog.'));
    expect(catalog.map(([at, p]) => [at.replace(/^.*\.catalog\./, ''), p])).toEqual([
      ['properties.domain', '^[^\\x00]*$'],
      ['properties.labels.additionalProperties', '^[^\\x00]*$'],
    ]);
    // The API server compiles patterns as RE2, which has no \u escape.
    for (const [at, pattern] of patterns) expect(pattern, at).not.toMatch(/\\u/);
    const noNul = new RegExp(catalog[0]![1], 'u');
    expect(noNul.test('analytics 😀')).toBe(true);
    expect(noNul.test('ana\u0000lytics')).toBe(false);
  });
});

describe('the spec schema', () => {
  it('is valid JSON Schema: checked here, since validateProvision does not check it at every start', () => {
    const ajv = new Ajv({ strict: false });
    const schema = strictSchema(SPEC_SCHEMA) as object;
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true);
  });
});
