import { describe, expect, it } from 'vitest';
import { applyJsonPatch, decodeJsonPatch, JsonPatchApplyError, JsonPatchDecodeError } from './json-patch.js';
import { mergePatch } from './merge-patch.js';

describe('applyJsonPatch (RFC 6902)', () => {
  const doc = { a: { b: [1, 2, 3] }, c: 'x' };

  it('applies add, remove, replace, move, copy and test', () => {
    const result = applyJsonPatch(doc, [
      { op: 'test', path: '/c', value: 'x' },
      { op: 'add', path: '/a/b/-', value: 4 },
      { op: 'add', path: '/a/b/0', value: 0 },
      { op: 'remove', path: '/a/b/1' },
      { op: 'replace', path: '/c', value: 'y' },
      { op: 'copy', from: '/c', path: '/d' },
      { op: 'move', from: '/d', path: '/e~1f' },
    ]);
    expect(result).toEqual({ a: { b: [0, 2, 3, 4] }, c: 'y', 'e/f': 'y' });
    expect(doc).toEqual({ a: { b: [1, 2, 3] }, c: 'x' });
  });

  it('fails a test op on a different or missing value', () => {
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/c', value: 'z' }])).toThrow(JsonPatchApplyError);
    expect(() => applyJsonPatch(doc, [{ op: 'test', path: '/nope', value: null }])).toThrow(
      'testing value /nope failed: test failed',
    );
  });

  it('fails replace and remove on missing paths', () => {
    expect(() => applyJsonPatch(doc, [{ op: 'replace', path: '/nope', value: 1 }])).toThrow(
      JsonPatchApplyError,
    );
    expect(() => applyJsonPatch(doc, [{ op: 'remove', path: '/a/b/9' }])).toThrow(JsonPatchApplyError);
  });

  it('refuses bodies that are not an array of operations', () => {
    expect(() => decodeJsonPatch({ op: 'add' })).toThrow(JsonPatchDecodeError);
    expect(() => decodeJsonPatch([{ op: 'add' }])).toThrow(JsonPatchDecodeError);
  });
});

describe('mergePatch (RFC 7386)', () => {
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: [1, 2] }, { a: [3] }, { a: [3] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: 'b' }, ['c'], ['c']],
  ])('%j + %j = %j', (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });
});
