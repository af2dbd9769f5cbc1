import { describe, expect, it } from 'vitest';
import { adfToText } from './adf-text.js';
import type { AdfNode } from './jira-types.js';

const doc = (...content: AdfNode[]): AdfNode => ({ type: 'doc', version: 1, content });
const text = (value: string, marks?: AdfNode['marks']): AdfNode => ({
  type: 'text',
  text: value,
  ...(marks ? { marks } : {}),
});
const p = (...content: AdfNode[]): AdfNode => ({ type: 'paragraph', content });
const item = (...content: AdfNode[]): AdfNode => ({ type: 'listItem', content });

describe('adfToText', () => {
  it('returns null for a missing or empty document', () => {
    expect(adfToText(null)).toBeNull();
    expect(adfToText(undefined)).toBeNull();
    expect(adfToText(doc())).toBeNull();
    expect(adfToText(doc(p(), p(text('   '))))).toBeNull();
  });

  it('separates top-level blocks with a blank line and keeps hard breaks as line breaks', () => {
    const adf = doc(
      { type: 'heading', attrs: { level: 2 }, content: [text('Goal')] },
      p(text('First line'), { type: 'hardBreak' }, text('second line')),
    );
    expect(adfToText(adf)).toBe('Goal\n\nFirst line\nsecond line');
  });

  it('renders bullet and ordered lists with markers, nested lists indented under their item', () => {
    const adf = doc(
      {
        type: 'bulletList',
        content: [
          item(p(text('parent')), { type: 'bulletList', content: [item(p(text('child')))] }),
          item(p(text('sibling'))),
        ],
      },
      {
        type: 'orderedList',
        attrs: { order: 3 },
        content: [item(p(text('third'))), item(p(text('fourth')))],
      },
    );
    expect(adfToText(adf)).toBe('- parent\n  - child\n- sibling\n\n3. third\n4. fourth');
  });

  it('keeps code blocks verbatim, including their line breaks', () => {
    const adf = doc({ type: 'codeBlock', attrs: { language: 'sql' }, content: [text('SELECT 1\nFROM t')] });
    expect(adfToText(adf)).toBe('SELECT 1\nFROM t');
  });

  it('renders mentions, emoji, dates, status lozenges and inline cards as readable text', () => {
    const adf = doc(
      p(
        { type: 'mention', attrs: { id: '712020:abc', text: '@Priya Raman' } },
        text(' '),
        { type: 'mention', attrs: { id: '712020:hidden' } },
        text(' '),
        { type: 'emoji', attrs: { shortName: ':tada:', text: '🎉' } },
        text(' due '),
        { type: 'date', attrs: { timestamp: '1717113600000' } },
        text(' '),
        { type: 'status', attrs: { text: 'BLOCKED', color: 'red' } },
        text(' see '),
        { type: 'inlineCard', attrs: { url: 'https://acme.atlassian.net/browse/ENG-1' } },
      ),
    );
    expect(adfToText(adf)).toBe(
      '@Priya Raman @712020:hidden 🎉 due 2024-05-31 BLOCKED see https://acme.atlassian.net/browse/ENG-1',
    );
  });

  it('keeps a link address when the link text differs from it, and drops other styling', () => {
    const adf = doc(
      p(
        text('docs', [{ type: 'link', attrs: { href: 'https://example.com/docs' } }]),
        text(' and '),
        text('https://example.com', [{ type: 'link', attrs: { href: 'https://example.com' } }]),
        text(' in '),
        text('bold', [{ type: 'strong' }]),
      ),
    );
    expect(adfToText(adf)).toBe('docs (https://example.com/docs) and https://example.com in bold');
  });

  it('flattens tables row by row and renders quotes, rules and attachments', () => {
    const cell = (value: string): AdfNode => ({ type: 'tableCell', content: [p(text(value))] });
    const adf = doc(
      {
        type: 'table',
        content: [
          { type: 'tableRow', content: [{ type: 'tableHeader', content: [p(text('key'))] }, cell('status')] },
          { type: 'tableRow', content: [cell('ENG-1'), cell('done')] },
        ],
      },
      { type: 'blockquote', content: [p(text('quoted'))] },
      { type: 'rule' },
      { type: 'mediaSingle', content: [{ type: 'media', attrs: { type: 'file', alt: 'trace.png' } }] },
    );
    expect(adfToText(adf)).toBe('key | status\nENG-1 | done\n\n> quoted\n\n---\n\n[attachment: trace.png]');
  });

  it('keeps the text of node types it does not know', () => {
    const adf = doc(
      { type: 'panel', attrs: { panelType: 'info' }, content: [p(text('inside a panel'))] },
      {
        type: 'someFutureBlock',
        text: 'future text',
      },
    );
    expect(adfToText(adf)).toBe('inside a panel\n\nfuture text');
  });
});
