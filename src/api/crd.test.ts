import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRD_FILE } from './crd.js';
import { crdYaml } from './crd-yaml.js';
import { SPEC_VALIDATOR_FILE, specValidatorSource } from './spec-validator-source.js';

describe('the committed CRD and spec validator', () => {
  it('is exactly what `npm run gen:crds` generates from the API schema', async () => {
    const committed = await readFile(path.resolve(import.meta.dirname, '../..', CRD_FILE), 'utf8');
    expect(committed, 'run `npm run gen:crds` and commit the result').toBe(crdYaml());
  });

  it('the spec validator is exactly what `npm run gen:crds` compiles from the same schema', async () => {
    const committed = await readFile(path.resolve(import.meta.dirname, '../..', SPEC_VALIDATOR_FILE), 'utf8');
    expect(committed, 'run `npm run gen:crds` and commit the result').toBe(specValidatorSource());
  });
});
