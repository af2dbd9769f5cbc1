import { describe, expect, it } from 'vitest';
import { arrayLiteral, copyEscape, decodeCopyLine } from './copy-encoding.js';
import { joinLines, LineBuffer } from './line-buffer.js';

describe('COPY text encoding', () => {
  it('escapes backslash, tab, newline and carriage return', () => {
    expect(copyEscape('plain')).toBe('plain');
    expect(copyEscape('C:\\new\ttab\nline\rcr')).toBe('C:\\\\new\\ttab\\nline\\rcr');
    expect(copyEscape('\\N')).toBe('\\\\N');
  });

  it('quotes every array element so NULL and empty strings stay strings', () => {
    expect(arrayLiteral([])).toBe('{}');
    expect(arrayLiteral(['NULL', '', 'a,b', '"q"', 'back\\slash', '{x}'])).toBe(
      '{"NULL","","a,b","\\"q\\"","back\\\\slash","{x}"}',
    );
  });

  it('decodes what it encodes, with \\N as NULL and an escaped \\N as text', () => {
    const values = ['a\tb', 'C:\\new', '\\N', 'x\r\ny', ''];
    const line = [...values.map(copyEscape), '\\N'].join('\t');
    expect(decodeCopyLine(line)).toEqual([...values, null]);
  });
});

describe('LineBuffer', () => {
  it('stores lines off-heap in chunks and joins them in any order', () => {
    const lines = new LineBuffer();
    const refs = ['first\n', 'second\n', 'x'.repeat(3 << 20)].map((text) => {
      const { chunk, start } = lines.reserve(text.length * 3);
      const end = start + chunk.write(text, start);
      lines.commit(end);
      return { chunk, start, end };
    });
    expect(refs[0]!.chunk).toBe(refs[1]!.chunk);
    expect(refs[2]!.chunk).not.toBe(refs[1]!.chunk);
    const joined = Buffer.concat([...joinLines([refs[1]!, refs[0]!], 4)]).toString();
    expect(joined).toBe('second\nfirst\n');
  });
});
