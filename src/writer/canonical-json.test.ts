import { describe, expect, it } from 'vitest';
import { prng } from '../../test/support/prng.js';
import { canonicalJsonText } from './canonical-json.js';

function canonicalJson(value: unknown): unknown {
  return canonicalJsonText(value, { chars: 0, limit: Number.POSITIVE_INFINITY }, 0);
}

/** The definition canonicalJson must meet: keys sorted at every level, then JSON.stringify. */
function reference(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (v === null || typeof v !== 'object') return v;
    const record = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((k) => [k, sorted(record[k])]),
    );
  };
  return JSON.stringify(sorted(value));
}

const PIECES = [
  'a',
  'Z',
  ' ',
  '"',
  '\\',
  '\n',
  '\t',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u2028',
  'é',
  '🚀',
  '{',
  '}',
];

function randomText(random: () => number): string {
  let text = '';
  const length = Math.floor(random() * 8);
  for (let i = 0; i < length; i++) text += PIECES[Math.floor(random() * PIECES.length)];
  return text;
}

function randomValue(random: () => number, depth: number): unknown {
  const roll = random();
  if (depth > 3 || roll < 0.3) return randomText(random);
  if (roll < 0.4) return Math.round((random() - 0.5) * 1e6) / 100;
  if (roll < 0.45) return random() < 0.5;
  if (roll < 0.5) return null;
  if (roll < 0.7)
    return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(random() * 5); i > 0; i--)
    object[randomText(random)] = randomValue(random, depth + 1);
  return object;
}

describe('canonicalJsonText', () => {
  it('equals JSON.stringify of the key-sorted document, escapes included', () => {
    const random = prng(42);
    for (let n = 0; n < 5000; n++) {
      const value = { doc: randomValue(random, 0), [randomText(random)]: randomText(random) };
      expect(canonicalJson(value)).toBe(reference(value));
    }
  });

  it('reuses the sorted order of the last shape only for the same keys', () => {
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
    expect(canonicalJson({ b: 1, c: 2 })).toBe('{"b":1,"c":2}');
    expect(canonicalJson({ c: 1, b: 2, a: 3 })).toBe('{"a":3,"b":2,"c":1}');
  });
});
