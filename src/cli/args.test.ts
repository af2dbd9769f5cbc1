import { describe, expect, it } from 'vitest';
import { asksForJson } from './args.js';

describe('asksForJson', () => {
  it('finds -o json in every spelling the parser accepts', () => {
    for (const argv of [
      ['plan', '-o', 'json'],
      ['plan', '-ojson'],
      ['plan', '--output', 'json'],
      ['plan', '--output=json', '--bogus'],
    ])
      expect(asksForJson(argv), argv.join(' ')).toBe(true);
  });

  it('is false for text, a missing value, and anything after --', () => {
    for (const argv of [['plan'], ['plan', '-o', 'text'], ['plan', '-o'], ['plan', '--', '-o', 'json']])
      expect(asksForJson(argv), argv.join(' ')).toBe(false);
  });
});
