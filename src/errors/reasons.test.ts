import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REASONS } from './reasons.js';

describe('condition reasons', () => {
  it('are each documented in docs/reasons.md, and the doc lists no other', async () => {
    const doc = await readFile(path.resolve(import.meta.dirname, '../../docs/reasons.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...REASONS].sort());
  });
});
