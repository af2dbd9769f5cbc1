import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROW_TYPES_FILE, rowTypeName, rowTypesSource } from './row-types-source.js';

describe('the committed row types', () => {
  it('are exactly what `npm run gen:rows` generates from the models', async () => {
    const committed = await readFile(path.resolve(import.meta.dirname, '../..', ROW_TYPES_FILE), 'utf8');
    expect(committed, 'run `npm run gen:rows` and commit the result').toBe(rowTypesSource());
  });
});

describe('rowTypeName', () => {
  it('is the model id in PascalCase with a Row suffix', () => {
    expect(rowTypeName('cdm.work.item')).toBe('CdmWorkItemRow');
    expect(rowTypeName('cdm.crm.deal_stage')).toBe('CdmCrmDealStageRow');
  });
});
