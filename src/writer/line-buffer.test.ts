import { describe, expect, it } from 'vitest';
import { LineBuffer } from './line-buffer.js';

// Chunks are compared by identity: a matcher given two 1 MiB Buffers formats them, which takes seconds.
describe('LineBuffer', () => {
  it('appends lines in one chunk until it is full, then starts another', () => {
    const lines = new LineBuffer();
    const first = lines.reserve(10);
    lines.commit(first.start + 10);
    const second = lines.reserve(10);
    expect(second.chunk === first.chunk).toBe(true);
    expect(second.start).toBe(10);
    lines.commit(first.chunk.length - 5);
    expect(lines.reserve(10).chunk === first.chunk).toBe(false);
  });

  it('rewinds to the start of its chunk, but drops an outsized one', () => {
    const lines = new LineBuffer();
    const { chunk, start } = lines.reserve(100);
    lines.commit(start + 100);
    lines.rewind();
    const again = lines.reserve(100);
    expect(again.chunk === chunk).toBe(true);
    expect(again.start).toBe(0);
    const huge = lines.reserve(4 << 20);
    expect(huge.chunk === chunk).toBe(false);
    lines.commit(huge.start + 10);
    lines.rewind();
    expect(lines.reserve(100).chunk.length).toBe(chunk.length);
  });
});
