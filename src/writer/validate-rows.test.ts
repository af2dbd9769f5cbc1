import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../models/index.js';
import { MINIMAL_ITEM_ROW } from './testing/item-row.js';
import { rowValidator } from './validate-rows.js';

const validate = rowValidator(defaultRegistry.get('cdm.work.item'));

const good = MINIMAL_ITEM_ROW;

function reasons(row: unknown) {
  return Object.fromEntries((validate(row) ?? []).map((e) => [e.field, e.reason]));
}

describe('row validation', () => {
  it('accepts a minimal row and a full one', () => {
    expect(validate(good)).toBeUndefined();
    expect(
      validate({
        ...good,
        labels: ['a', 'NULL', ''],
        properties: { nested: { list: [1, 'two', null, true] } },
        story_points: 2.5,
        time_spent_seconds: '9007199254740993',
        due_date: '2024-02-29',
        closed_at: null,
      }),
    ).toBeUndefined();
  });

  it('names every bad field with a readable reason', () => {
    const result = reasons({
      ...good,
      cdm_id: undefined,
      summary: 42,
      status_category: 'closed',
      created_at: '2024-02-30T00:00:00Z',
      updated_at: 'yesterday',
      description: 'a\u0000b',
      labels: ['ok', 7],
      properties: { k: 'x\u0000' },
      colour: 'red',
      synced_at: '2024-05-01T00:00:00Z',
      original_estimate_seconds: '99999999999999999999',
      due_date: '2024-04-31',
    });
    expect(result).toEqual({
      cdm_id: 'is required',
      summary: 'must be a string (got 42)',
      status_category: 'must be one of todo, in_progress, done, unknown (got "closed")',
      created_at: expect.stringContaining('must be a valid RFC 3339 timestamp'),
      updated_at: expect.stringContaining('(got "yesterday")'),
      description: expect.stringContaining('NUL character'),
      labels: 'must be an array of strings (element 1 is 7)',
      properties: expect.stringMatching(/^must be plain JSON: properties\.k contains a NUL character/),
      colour: 'is not a field of cdm.work.item',
      synced_at: 'is set by the writer and must not be in the row',
      original_estimate_seconds: '99999999999999999999 is out of range for bigint',
      due_date: 'must be a real calendar date YYYY-MM-DD (got "2024-04-31")',
    });
  });

  it('reports missing required fields and non-object rows', () => {
    const { cdm_id: _, ...noId } = good;
    expect(reasons(noId)).toEqual({ cdm_id: 'is required' });
    expect(validate(null)).toEqual([{ field: '', reason: expect.stringContaining('must be an object') }]);
    expect(validate([good])).toEqual([{ field: '', reason: expect.stringContaining('must be an object') }]);
  });

  it('finds NUL bytes anywhere inside properties, keys included, and non-JSON values', () => {
    expect(reasons({ ...good, properties: { a: [{ b: ['ok', 'n\u0000'] }] } }).properties).toContain(
      'properties.a[0].b[1] contains a NUL',
    );
    expect(reasons({ ...good, properties: { 'k\u0000': 1 } }).properties).toContain(
      'has a key that contains a NUL',
    );
    expect(reasons({ ...good, properties: { d: new Date() } }).properties).toContain('is a Date');
    expect(reasons({ ...good, properties: { n: Number.NaN } }).properties).toContain('is NaN');
    expect(reasons({ ...good, properties: [] }).properties).toBe('must be a JSON object (got an array)');
  });

  it('says a huge integer string is out of range without parsing it', () => {
    expect(reasons({ ...good, original_estimate_seconds: '9'.repeat(5_000_000) })).toEqual({
      original_estimate_seconds: `${'9'.repeat(20)}… (5000000 characters) is out of range for bigint`,
    });
  });

  it('applies the model minimum to numbers and decimal strings alike', () => {
    const worklog = rowValidator(defaultRegistry.get('cdm.work.worklog'));
    const row = {
      cdm_id: 'w1',
      item_cdm_id: 'i1',
      started_at: '2024-05-01T10:00:00Z',
      created_at: '2024-05-01T10:00:00Z',
      updated_at: '2024-05-01T10:00:00Z',
    };
    expect(worklog({ ...row, time_spent_seconds: 60 })).toBeUndefined();
    expect(worklog({ ...row, time_spent_seconds: -1 })).toEqual([
      { field: 'time_spent_seconds', reason: 'must be >= 0 (got -1)' },
    ]);
    expect(worklog({ ...row, time_spent_seconds: '-5' })).toEqual([
      { field: 'time_spent_seconds', reason: 'must be >= 0 (got -5)' },
    ]);
  });
});
