import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../models/index.js';
import { decodeCopyLine } from './copy-encoding.js';
import { lineColumns, rowEncoder } from './encode-row.js';
import { LineBuffer } from './line-buffer.js';
import { MINIMAL_ITEM_ROW } from './testing/item-row.js';

const item = defaultRegistry.get('cdm.work.item');
const encoder = rowEncoder(item, 16 << 20);
const encode = (row: Record<string, unknown>, index = 0) => {
  const encoded = encoder(row, index, new LineBuffer());
  if (encoded === undefined || !('hash' in encoded)) throw new Error(`row ${index} refused`);
  return encoded;
};
const text = (r: ReturnType<typeof encode>) => r.chunk.toString('utf8', r.start, r.end);

const row = {
  ...MINIMAL_ITEM_ROW,
  updated_at: '2024-05-02T10:00:00.5Z',
  original_estimate_seconds: 3600,
  properties: { b: 1, a: { d: [1, 2], c: 'x' } },
};

describe('row encoding and hashing', () => {
  it('gives equal content an equal hash whatever its spelling', () => {
    const a = encode(row);
    const b = encode(
      {
        properties: { a: { c: 'x', d: [1, 2] }, b: 1 },
        updated_at: '2024-05-02T12:00:00.500+02:00',
        created_at: '2024-05-01t10:00:00z',
        original_estimate_seconds: '003600',
        summary: 'It broke',
        status_category: 'todo',
        status: 'Open',
        issue_type: 'Bug',
        project_cdm_id: 'jira:acme:project:1',
        cdm_id: 'jira:acme:item:1',
        labels: [],
        description: null,
      },
      7,
    );
    expect(b.hash).toBe(a.hash);
    expect(text(b)).toBe(text(a));
    expect(b.index).toBe(7);
    expect(b.version).toBe('2024-05-02T10:00:00.500000Z');
  });

  it('changes the hash when any value changes, including moves between fields', () => {
    const base = encode(row).hash;
    const variants = [
      { ...row, summary: 'It broke!' },
      { ...row, description: '' },
      { ...row, description: '\\N' },
      { ...row, labels: [''] },
      { ...row, labels: ['a', 'b'] },
      { ...row, labels: ['a,b'] },
      { ...row, properties: { b: 1, a: { d: [2, 1], c: 'x' } } },
      { ...row, updated_at: '2024-05-02T10:00:00.500001Z' },
      { ...row, priority: 'It broke', summary: 'x' },
      { ...row, deleted_at: '2024-05-03T00:00:00Z' },
    ];
    const hashes = variants.map((v) => encode(v).hash);
    expect(new Set([base, ...hashes]).size).toBe(variants.length + 1);
  });

  it('writes the COPY line in line-column order: canonical values, defaults spelt out, hash last', () => {
    const r = encode(row);
    const fields = decodeCopyLine(text(r).slice(0, -1));
    const names = lineColumns(item).map((f) => f.name);
    expect(names.slice(0, 2)).toEqual(['cdm_id', 'properties']);
    const value = (name: string) => fields[names.indexOf(name)];
    expect(fields).toHaveLength(names.length + 1);
    expect(fields.at(-1)).toBe(r.hash);
    expect(value('labels')).toBe('{}');
    expect(value('closed_at')).toBeNull();
    expect(value('created_at')).toBe('2024-05-01T10:00:00.000000Z');
    expect(value('original_estimate_seconds')).toBe('3600');
    expect(value('properties')).toBe('{"a":{"c":"x","d":[1,2]},"b":1}');
    expect(r.cdmId).toBe('jira:acme:item:1');
  });

  it('round-trips text that needs escaping through decodeCopyLine', () => {
    const nasty = {
      ...row,
      summary: 'tab\t nl\n cr\r bs\\ \\N 🚀',
      labels: ['NULL', '', 'a,b', '"q"', 'back\\slash'],
    };
    const fields = decodeCopyLine(text(encode(nasty)).slice(0, -1));
    const names = lineColumns(item).map((f) => f.name);
    expect(fields[names.indexOf('summary')]).toBe(nasty.summary);
    expect(fields[names.indexOf('labels')]).toBe('{"NULL","","a,b","\\"q\\"","back\\\\slash"}');
  });
});
