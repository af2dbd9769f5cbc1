import { describe, expect, it } from 'vitest';
import { backoffDelay, classifyFailure, DEFAULT_RETRY_POLICY, retryPolicy } from './retry.js';

const withCode = (code: string) => Object.assign(new Error('boom'), { code });

describe('classifyFailure', () => {
  it.each([
    '08006',
    '08003',
    '40001',
    '40P01',
    '57P01',
    '57P02',
    '57P03',
    '53300',
    'ECONNRESET',
    'EPIPE',
    'ECONNREFUSED',
  ])('treats %s as transient', (code) => {
    expect(classifyFailure(withCode(code), false)).toBe('transient');
  });

  it.each(['42P01', '42501', '42703', '57014', 'XX000'])('treats %s as fatal', (code) => {
    expect(classifyFailure(withCode(code), false)).toBe('fatal');
  });

  it.each(['22021', '22003', '22P02', '23502', '23514', '23503'])(
    'treats %s (SQLSTATE class 22 or 23: Postgres refused a row) as a data error to isolate',
    (code) => {
      expect(classifyFailure(withCode(code), false)).toBe('data');
    },
  );

  it('treats 23505 (a concurrent insert of a COPYed key) as a conflict to replay with upserts', () => {
    expect(classifyFailure(withCode('23505'), false)).toBe('conflict');
  });

  it('uses the client having lost its connection, not the message text, for code-less errors', () => {
    const terminated = new Error('Connection terminated unexpectedly');
    expect(classifyFailure(terminated, false)).toBe('fatal');
    expect(classifyFailure(terminated, true)).toBe('transient');
  });
});

describe('retryPolicy', () => {
  it('fills the defaults in, taking an explicit undefined as not set', () => {
    expect(retryPolicy({ maxAttempts: undefined, baseDelayMs: 5 })).toEqual({
      ...DEFAULT_RETRY_POLICY,
      baseDelayMs: 5,
    });
    expect(retryPolicy()).toEqual(DEFAULT_RETRY_POLICY);
  });
});

describe('backoffDelay', () => {
  const policy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
  it('doubles per attempt with jitter and stays under the cap', () => {
    expect(backoffDelay(policy, 1, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, () => 1)).toBe(100);
    expect(backoffDelay(policy, 3, () => 1)).toBe(400);
    expect(backoffDelay(policy, 9, () => 1)).toBe(1000);
    expect(backoffDelay(policy, 9, () => 0)).toBe(500);
  });
});
