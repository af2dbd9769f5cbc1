import { describe, expect, it } from 'vitest';
import { workItemRow } from '../../bench/writer/rows.js';
import { prng } from '../../test/support/prng.js';
import { CDM_WORK_MODELS, type FieldSpec, type ModelSpec } from '../models/index.js';
import { rowEncoder } from './encode-row.js';
import { LineBuffer } from './line-buffer.js';
import { rowFields } from './row-schema.js';
import { MINIMAL_ITEM_ROW } from './testing/item-row.js';
import { rowValidator } from './validate-rows.js';

/**
 * The encoder checks rows itself (one pass for the common, valid row) and leaves messages to the Ajv
 * validator compiled from the row schema. These tests hold the two to the same verdict on every row:
 * if they disagreed, a valid row would be refused or an invalid one written.
 */

class Custom {
  a = 1;
}

/** Values of every shape a mapper might produce by mistake, next to valid ones. */
const ODD_VALUES: readonly unknown[] = [
  undefined,
  null,
  '',
  'plain',
  'tab\there',
  'nul\u0000',
  'lone \ud800 surrogate',
  'pair 🚀',
  '\\N',
  0,
  -0,
  1.5,
  -1,
  2 ** 53,
  2 ** 53 + 2,
  1e21,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '7',
  '007',
  '-5',
  '1.50',
  '1e3',
  '9'.repeat(19),
  '9'.repeat(20),
  '9'.repeat(131073),
  `1.${'0'.repeat(16384)}`,
  true,
  false,
  '2024-02-29',
  '2023-02-29',
  '2024-05-01T10:00:00Z',
  '2024-05-01T12:00:00.1234567+02:00',
  '2024-05-01T10:00:00',
  '0000-01-01T00:00:00Z',
  [],
  ['a', 'b'],
  ['a', 7],
  ['"q"', 'back\\slash'],
  ['nul\u0000'],
  [undefined],
  {},
  { b: 1, a: { d: [1, 2], c: 'x' } },
  { d: new Date(0) },
  { n: Number.NaN },
  { u: undefined },
  { f: () => 1 },
  { k: 'x\u0000' },
  { 'k\u0000': 1 },
  { c: new Custom() },
  new Custom(),
  Object.create(null),
  new Date(0),
  () => 1,
  Symbol('s'),
  10n,
];

function deep(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { v: value };
  return value;
}

function validValue(field: FieldSpec, n: number): unknown {
  switch (field.type) {
    case 'string':
      return field.check?.kind === 'oneOf' ? field.check.values[n % field.check.values.length] : `v${n}`;
    case 'boolean':
      return n % 2 === 0;
    case 'integer':
    case 'number':
      return n;
    case 'date':
      return '2024-05-01';
    case 'timestamp':
      return '2024-05-01T10:00:00Z';
    case 'string_array':
      return ['x'];
    case 'json_object':
      return { n };
  }
}

/** A valid row of `model`, then `mutations` of its fields set to odd values (or removed). */
function mutatedRow(model: ModelSpec, random: () => number, mutations: number): Record<string, unknown> {
  const fields = rowFields(model);
  const row: Record<string, unknown> = {};
  for (const [i, field] of fields.entries()) row[field.name] = validValue(field, i);
  for (let m = 0; m < mutations; m++) {
    const field = fields[Math.floor(random() * fields.length)]!;
    const roll = random();
    if (roll < 0.05) delete row[field.name];
    else if (roll < 0.1) row[`extra_${m}`] = 1;
    else if (roll < 0.12) row[field.name] = deep(63 + Math.floor(random() * 3));
    else row[field.name] = ODD_VALUES[Math.floor(random() * ODD_VALUES.length)];
  }
  return row;
}

function verdicts(model: ModelSpec, row: unknown) {
  const encoded = rowEncoder(model, 16 << 20)(row, 0, new LineBuffer());
  const errors = rowValidator(model)(row);
  return { encoderAccepts: encoded !== undefined, schemaAccepts: errors === undefined, errors };
}

describe('encoder and row schema agree', () => {
  for (const model of CDM_WORK_MODELS) {
    it(`on 4,000 mutated ${model.id} rows`, () => {
      const random = prng(model.id.length * 7919);
      let refused = 0;
      for (let n = 0; n < 4000; n++) {
        const row = mutatedRow(model, random, n % 4);
        const v = verdicts(model, row);
        if (v.encoderAccepts !== v.schemaAccepts) {
          expect.fail(
            `${model.id} row ${n}: encoder ${v.encoderAccepts}, schema ${JSON.stringify(v.errors)}`,
          );
        }
        if (!v.schemaAccepts) refused++;
      }
      // The corpus must exercise both verdicts.
      expect(refused).toBeGreaterThan(500);
      expect(refused).toBeLessThan(3900);
    });
  }

  it('on rows that are not plain objects, and on inherited or unknown keys', () => {
    const model = CDM_WORK_MODELS.find((m) => m.id === 'cdm.work.item')!;
    const inherited = Object.assign(Object.create({ colour: 'red' }), MINIMAL_ITEM_ROW);
    const withProtoField = Object.assign(Object.create({ summary: 'from the prototype' }), {
      ...MINIMAL_ITEM_ROW,
      summary: undefined,
    });
    for (const row of [null, [], 'row', 5, new Custom(), inherited, withProtoField, new Date(0)]) {
      const v = verdicts(model, row);
      expect(v.encoderAccepts, String(row)).toBe(v.schemaAccepts);
    }
  });

  it('on every benchmark row', () => {
    const model = CDM_WORK_MODELS.find((m) => m.id === 'cdm.work.item')!;
    for (let n = 0; n < 2000; n++)
      expect(verdicts(model, workItemRow(n, { version: n % 2 })).encoderAccepts).toBe(true);
  });
});
