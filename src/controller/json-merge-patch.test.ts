import { describe, expect, it } from 'vitest';
import { createMergePatch, jsonEqual } from './json-merge-patch.js';

describe('createMergePatch', () => {
  it('is undefined for equal documents whatever the key order and undefined members', () => {
    expect(
      createMergePatch({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1, d: undefined }),
    ).toBeUndefined();
  });

  it('contains only the changed members and nulls the removed ones', () => {
    const current = { observedGeneration: 1, lastPlan: { hash: 'x', appliedAt: 't' }, tables: [{ a: 1 }] };
    const next = { observedGeneration: 2, lastPlan: { hash: 'x' }, tables: [{ a: 1 }] };
    expect(createMergePatch(current, next)).toEqual({ observedGeneration: 2, lastPlan: { appliedAt: null } });
  });

  it('replaces arrays whole', () => {
    expect(createMergePatch({ c: [1, 2, 3] }, { c: [1, 2] })).toEqual({ c: [1, 2] });
  });
});

describe('jsonEqual', () => {
  it('tells arrays from objects and compares element by element', () => {
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
    expect(jsonEqual([{ a: 1 }], [{ a: 1 }])).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
  });
});
