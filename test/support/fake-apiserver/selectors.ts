/**
 * Label and field selectors with the apiserver's grammar (`k8s.io/apimachinery/pkg/labels` and `fields`):
 * `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`.
 */
import { apiErrors } from './status-errors.js';

type LabelOp = 'exists' | 'notExists' | 'eq' | 'neq' | 'in' | 'notin' | 'gt' | 'lt';

interface LabelRequirement {
  readonly key: string;
  readonly op: LabelOp;
  readonly values: readonly string[];
}

type Token =
  | { kind: 'ident'; text: string }
  | { kind: 'not' | 'eq' | 'neq' | 'gt' | 'lt' | 'open' | 'close' | 'comma' | 'end' };

const SPECIAL = new Set(['!', '=', '<', '>', '(', ')', ',']);

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i] ?? '';
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '!') {
      if (input[i + 1] === '=') {
        tokens.push({ kind: 'neq' });
        i += 2;
      } else {
        tokens.push({ kind: 'not' });
        i++;
      }
    } else if (ch === '=') {
      i += input[i + 1] === '=' ? 2 : 1;
      tokens.push({ kind: 'eq' });
    } else if (ch === '<' || ch === '>') {
      tokens.push({ kind: ch === '<' ? 'lt' : 'gt' });
      i++;
    } else if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: ch === '(' ? 'open' : ch === ')' ? 'close' : 'comma' });
      i++;
    } else {
      let end = i;
      while (end < input.length && !SPECIAL.has(input[end] ?? '') && !/\s/.test(input[end] ?? '')) end++;
      tokens.push({ kind: 'ident', text: input.slice(i, end) });
      i = end;
    }
  }
  tokens.push({ kind: 'end' });
  return tokens;
}

function parseError(selector: string, why: string): never {
  throw apiErrors.badRequest(`unable to parse requirement: found '${selector}', ${why}`);
}

export class LabelSelector {
  private constructor(private readonly requirements: readonly LabelRequirement[]) {}

  static readonly everything = new LabelSelector([]);

  static parse(selector: string | undefined): LabelSelector {
    if (!selector?.trim()) return LabelSelector.everything;
    const tokens = tokenize(selector);
    let pos = 0;
    const peek = (): Token => tokens[pos] ?? { kind: 'end' };
    const next = (): Token => tokens[pos++] ?? { kind: 'end' };
    const ident = (what: string): string => {
      const t = next();
      if (t.kind !== 'ident') parseError(selector, `expected ${what}`);
      return t.text;
    };
    const requirements: LabelRequirement[] = [];
    for (;;) {
      if (peek().kind === 'not') {
        next();
        requirements.push({ key: ident('a label key'), op: 'notExists', values: [] });
      } else {
        const key = ident('a label key');
        const op = peek();
        if (op.kind === 'comma' || op.kind === 'end') {
          requirements.push({ key, op: 'exists', values: [] });
        } else if (op.kind === 'eq' || op.kind === 'neq' || op.kind === 'gt' || op.kind === 'lt') {
          next();
          const valueToken = peek();
          let value = '';
          if (valueToken.kind === 'ident') {
            next();
            value = valueToken.text;
          }
          if ((op.kind === 'gt' || op.kind === 'lt') && !/^-?\d+$/.test(value)) {
            parseError(selector, 'for gt/lt operators the value must be an integer');
          }
          requirements.push({ key, op: op.kind, values: [value] });
        } else if (op.kind === 'ident' && (op.text === 'in' || op.text === 'notin')) {
          next();
          if (next().kind !== 'open') parseError(selector, "expected '('");
          const values: string[] = [];
          while (peek().kind !== 'close') {
            const t = next();
            if (t.kind === 'ident') values.push(t.text);
            else if (t.kind !== 'comma') parseError(selector, "expected ')'");
          }
          next();
          requirements.push({ key, op: op.text, values });
        } else {
          parseError(selector, 'expected an operator');
        }
      }
      const sep = next();
      if (sep.kind === 'end') break;
      if (sep.kind !== 'comma') parseError(selector, "expected ','");
    }
    return new LabelSelector(requirements);
  }

  matches(labels: Readonly<Record<string, unknown>> | undefined): boolean {
    return this.requirements.every((r) => {
      const raw = labels?.[r.key];
      const value = typeof raw === 'string' ? raw : undefined;
      switch (r.op) {
        case 'exists':
          return value !== undefined;
        case 'notExists':
          return value === undefined;
        case 'eq':
          return value === r.values[0];
        case 'neq':
          return value !== r.values[0];
        case 'in':
          return value !== undefined && r.values.includes(value);
        case 'notin':
          return value === undefined || !r.values.includes(value);
        case 'gt':
        case 'lt': {
          if (value === undefined || !/^-?\d+$/.test(value)) return false;
          const diff = Number(value) - Number(r.values[0]);
          return r.op === 'gt' ? diff > 0 : diff < 0;
        }
      }
      return false;
    });
  }
}

interface FieldRequirement {
  readonly field: string;
  readonly negate: boolean;
  readonly value: string;
}

/** Splits on an unescaped separator; field selector values escape `\`, `,` and `=` with a backslash. */
function splitUnescaped(input: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i] ?? '';
    if (ch === '\\' && i + 1 < input.length) {
      current += ch + (input[i + 1] ?? '');
      i++;
    } else if (ch === separator) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

const unescapeValue = (value: string): string => value.replace(/\\(.)/g, '$1');

export class FieldSelector {
  private constructor(private readonly requirements: readonly FieldRequirement[]) {}

  static readonly everything = new FieldSelector([]);

  /** `supported` lists the field labels this resource accepts; anything else is a 400 like the apiserver's. */
  static parse(selector: string | undefined, supported: readonly string[]): FieldSelector {
    if (!selector?.trim()) return FieldSelector.everything;
    const requirements = splitUnescaped(selector, ',').map((term): FieldRequirement => {
      const match = /^([^!=]+?)\s*(!=|==|=)\s*(.*)$/s.exec(term.trim());
      if (!match) throw apiErrors.badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
      const [, field = '', op, value = ''] = match;
      if (!supported.includes(field)) throw apiErrors.badRequest(`field label not supported: ${field}`);
      return { field, negate: op === '!=', value: unescapeValue(value) };
    });
    return new FieldSelector(requirements);
  }

  /** Returns the single `metadata.name=` value, which lets a get-by-name watch reuse list machinery. */
  static forName(name: string): FieldSelector {
    return new FieldSelector([{ field: 'metadata.name', negate: false, value: name }]);
  }

  and(other: FieldSelector): FieldSelector {
    return new FieldSelector([...this.requirements, ...other.requirements]);
  }

  matches(fieldValue: (field: string) => string): boolean {
    return this.requirements.every((r) => (fieldValue(r.field) === r.value) !== r.negate);
  }
}
