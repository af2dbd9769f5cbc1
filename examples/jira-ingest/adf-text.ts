import type { AdfMark, AdfNode } from './jira-types.js';

/**
 * Atlassian Document Format → plain text, for the CDM text columns (`description`, `body`, `comment`).
 *
 * The text is for reading and full-text search, so it keeps what a reader needs (paragraph breaks, list
 * markers, code verbatim, who was mentioned, where a link points) and drops styling. It is lossy on
 * purpose: the mapper keeps the ADF itself in `properties`, so nothing is lost for consumers that render
 * rich text. Node types this walker does not know still contribute their text, since Atlassian adds node
 * types over time and dropping a customer's words silently would be worse than imperfect layout.
 */
export function adfToText(doc: AdfNode | null | undefined): string | null {
  if (!doc || typeof doc !== 'object') return null;
  const text = trimLines(blockLines(doc.content ?? [], true)).join('\n');
  return text === '' ? null : text;
}

const INLINE = new Set([
  'text',
  'hardBreak',
  'mention',
  'emoji',
  'inlineCard',
  'date',
  'status',
  'placeholder',
  'mediaInline',
  'inlineExtension',
]);

function trimLines(lines: string[]): string[] {
  const trimmed = lines.map((l) => l.trimEnd());
  while (trimmed.length > 0 && trimmed[0] === '') trimmed.shift();
  while (trimmed.length > 0 && trimmed[trimmed.length - 1] === '') trimmed.pop();
  return trimmed;
}

/** Renders sibling blocks; top-level blocks are separated by a blank line, blocks inside a list item are not. */
function blockLines(nodes: readonly AdfNode[], loose: boolean): string[] {
  const out: string[] = [];
  let inlineRun: AdfNode[] = [];
  const push = (lines: string[]) => {
    if (lines.length === 0) return;
    if (out.length > 0 && loose) out.push('');
    out.push(...lines);
  };
  for (const node of nodes) {
    // Inline nodes directly inside a block container are malformed ADF, but their text still counts.
    if (INLINE.has(node.type)) {
      inlineRun.push(node);
      continue;
    }
    if (inlineRun.length > 0) push(inlineLines(inlineRun));
    inlineRun = [];
    push(block(node));
  }
  if (inlineRun.length > 0) push(inlineLines(inlineRun));
  return out;
}

function inlineLines(nodes: readonly AdfNode[]): string[] {
  const text = nodes.map(inline).join('');
  return text.trim() === '' ? [] : text.split('\n');
}

function block(node: AdfNode): string[] {
  const content = node.content ?? [];
  switch (node.type) {
    case 'paragraph':
    case 'heading':
      return inlineLines(content);
    case 'bulletList':
      return listLines(content, () => '- ');
    case 'orderedList': {
      const start = typeof node.attrs?.order === 'number' ? node.attrs.order : 1;
      return listLines(content, (i) => `${start + i}. `);
    }
    case 'taskList':
      return listLines(content, () => '- ');
    case 'codeBlock':
      return content
        .map((n) => n.text ?? '')
        .join('')
        .split('\n');
    case 'blockquote':
      return blockLines(content, true).map((l) => (l === '' ? '>' : `> ${l}`));
    case 'rule':
      return ['---'];
    case 'table':
      return content.map((row) =>
        (row.content ?? []).map((cell) => blockLines(cell.content ?? [], false).join(' ')).join(' | '),
      );
    case 'media':
      return [mediaLabel(node)];
    default:
      if (content.length > 0) return blockLines(content, true);
      return typeof node.text === 'string' ? node.text.split('\n') : [];
  }
}

function listLines(items: readonly AdfNode[], marker: (index: number) => string): string[] {
  return items.flatMap((item, index) => {
    const prefix = marker(index);
    const indent = ' '.repeat(prefix.length);
    const lines = item.type === 'listItem' || item.type === 'taskItem' ? itemLines(item) : block(item);
    return lines.map((line, i) => (i === 0 ? prefix + line : line === '' ? '' : indent + line));
  });
}

function itemLines(item: AdfNode): string[] {
  const content = item.content ?? [];
  // A task item holds inline nodes directly; a list item holds paragraphs and nested lists.
  return content.every((n) => INLINE.has(n.type)) ? inlineLines(content) : blockLines(content, false);
}

function inline(node: AdfNode): string {
  const attrs = node.attrs ?? {};
  switch (node.type) {
    case 'text':
      return withLink(node.text ?? '', node.marks);
    case 'hardBreak':
      return '\n';
    case 'mention':
      // `attrs.text` already carries the '@'; without it (restricted users) the id is all there is.
      return typeof attrs.text === 'string' && attrs.text !== '' ? attrs.text : `@${String(attrs.id ?? '')}`;
    case 'emoji':
      return typeof attrs.text === 'string' ? attrs.text : String(attrs.shortName ?? '');
    case 'inlineCard':
      return typeof attrs.url === 'string' ? attrs.url : '';
    case 'date':
      return isoDate(attrs.timestamp);
    case 'status':
      return typeof attrs.text === 'string' ? attrs.text : '';
    case 'mediaInline':
      return mediaLabel(node);
    default:
      return typeof node.text === 'string' ? node.text : (node.content ?? []).map(inline).join('');
  }
}

/** A link whose text is not its address keeps the address, so the plain text still says where it points. */
function withLink(text: string, marks: readonly AdfMark[] | undefined): string {
  const href = marks?.find((m) => m.type === 'link')?.attrs?.href;
  return typeof href === 'string' && href !== text ? `${text} (${href})` : text;
}

function mediaLabel(node: AdfNode): string {
  const alt = node.attrs?.alt;
  return typeof alt === 'string' && alt !== '' ? `[attachment: ${alt}]` : '[attachment]';
}

/** ADF dates are epoch milliseconds (as a string) for a calendar day in UTC. */
function isoDate(timestamp: unknown): string {
  const ms = Number(timestamp);
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 10) : '';
}
