/**
 * The metric names a PromQL expression refers to, found by a small tokenizer rather than a parser: good
 * enough to check that dashboards and alerts only use metrics the controller exports, and small enough to
 * trust. Everything that is not a metric name is skipped: string literals, comments, label matcher bodies
 * (`{...}`), range and subquery brackets (`[5m:1m]`), numbers and durations (`offset 5m`), the label lists
 * of grouping and matching clauses (`by (...)`, `on (...)`, `group_left (...)`, ...), function and
 * aggregation names (an identifier followed by `(`, or an aggregation keyword before its `by`), and the
 * operator keywords.
 */

/** Aggregation operators: also keywords when a `by`/`without` clause, not `(`, follows them. */
const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);

/** Clauses whose parenthesised list holds label names, not expressions. */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/** Binary operator and modifier keywords, and the number literals PromQL spells as words. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan', 'start', 'end']);

const isIdentStart = (c: string | undefined) => c !== undefined && /[A-Za-z_:]/.test(c);
const isIdentChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_:]/.test(c);
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/** The index just past the string literal opening at `start` (PromQL's "…", '…' and raw `…`). */
function skipString(s: string, start: number): number {
  const quote = s[start];
  let i = start + 1;
  while (i < s.length) {
    const c = s[i];
    if (c === '\\' && quote !== '`') i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  throw new Error(`unterminated string literal at ${start} in: ${s}`);
}

/** The index just past the bracket closing the one at `start`; strings inside may hold any bracket. */
function skipBalanced(s: string, start: number): number {
  const open = s[start];
  const close = open === '{' ? '}' : open === '[' ? ']' : ')';
  let depth = 0;
  let i = start;
  while (i < s.length) {
    const c = s[i];
    if (c === '"' || c === "'" || c === '`') {
      i = skipString(s, i);
      continue;
    }
    if (c === open) depth++;
    else if (c === close && --depth === 0) return i + 1;
    i++;
  }
  throw new Error(`unbalanced ${open} at ${start} in: ${s}`);
}

function nextNonSpace(s: string, from: number): number {
  let i = from;
  while (i < s.length && /\s/.test(s[i] ?? '')) i++;
  return i;
}

/** The metric names `expr` selects, in order of first appearance. */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (c === undefined) break;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      const newline = expr.indexOf('\n', i);
      i = newline === -1 ? expr.length : newline + 1;
    } else if (c === '"' || c === "'" || c === '`') {
      i = skipString(expr, i);
    } else if (c === '{') {
      const end = skipBalanced(expr, i);
      // A name given as a matcher would slip through unchecked; refuse it rather than miss it.
      if (/\b__name__\s*(=|!=|=~|!~)/.test(expr.slice(i, end)))
        throw new Error(`a __name__ matcher is not supported by metricNames: ${expr}`);
      i = end;
    } else if (c === '[') {
      i = skipBalanced(expr, i);
    } else if (isDigit(c) || (c === '.' && isDigit(expr[i + 1]))) {
      // Numbers, hex, exponents and durations (`5m`, `1h30m`); a sign after `e` is an operator to us.
      while (i < expr.length && /[0-9A-Za-z_.]/.test(expr[i] ?? '')) i++;
    } else if (isIdentStart(c)) {
      const start = i;
      while (isIdentChar(expr[i])) i++;
      const word = expr.slice(start, i);
      const keyword = word.toLowerCase();
      const next = nextNonSpace(expr, i);
      if (LABEL_LISTS.has(keyword)) {
        if (expr[next] === '(') i = skipBalanced(expr, next);
      } else if (expr[next] === '(' || AGGREGATIONS.has(keyword) || KEYWORDS.has(keyword)) {
        // A function or aggregation name, or an operator keyword.
      } else {
        names.add(word);
      }
    } else {
      i++;
    }
  }
  return [...names];
}
