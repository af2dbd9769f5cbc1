import { describe, expect, it } from 'vitest';
import { OperatorError } from '../errors/index.js';
import { BACKOFF, errorPolicy } from './error-policy.js';

describe('errorPolicy', () => {
  it('backs off retryable errors and anything unclassified', () => {
    expect(errorPolicy(new OperatorError('ConnectionFailed', 'refused', true))).toBe(BACKOFF);
    expect(errorPolicy(new Error('HTTP 500'))).toBe(BACKOFF);
  });

  it('waits for a change after a non-retryable error', () => {
    expect(errorPolicy(new OperatorError('InvalidSpec', 'bad', false))).toEqual({ kind: 'awaitChange' });
  });
});
