import { describe, expect, it } from 'vitest';
import { setCondition } from './conditions.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const T1 = new Date('2026-01-01T00:05:00Z');

describe('setCondition', () => {
  it('keeps lastTransitionTime while the status stays the same, and moves it when it flips', () => {
    const first = setCondition(
      [],
      { type: 'Ready', status: 'False', reason: 'Progressing', message: 'a' },
      T0,
      1,
    );
    const same = setCondition(
      first.conditions,
      { type: 'Ready', status: 'False', reason: 'LockTimeout', message: 'b' },
      T1,
      2,
    );
    expect(same.conditions[0]).toMatchObject({
      reason: 'LockTimeout',
      lastTransitionTime: '2026-01-01T00:00:00Z',
      observedGeneration: 2,
    });
    expect(same.changed).toBe(true);
    const flipped = setCondition(
      same.conditions,
      { type: 'Ready', status: 'True', reason: 'Provisioned', message: '' },
      T1,
      2,
    );
    expect(flipped.conditions[0]!.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
  });

  it('reports no change when nothing differs, so the status write can be skipped', () => {
    const first = setCondition(
      [],
      { type: 'Ready', status: 'True', reason: 'Provisioned', message: '' },
      T0,
      3,
    );
    expect(
      setCondition(
        first.conditions,
        { type: 'Ready', status: 'True', reason: 'Provisioned', message: '' },
        T1,
        3,
      ).changed,
    ).toBe(false);
  });
});
