/**
 * The subset of CEL that CRD `x-kubernetes-validations` rules in practice use: literals, field selection and
 * indexing, `has()`, logic with CEL's error-absorbing `&&`/`||`, comparison, arithmetic, `in`, the list
 * macros (`all`, `exists`, `exists_one`, `map`, `filter`) and the string functions of the Kubernetes CEL
 * library. No static type checking: a rule outside the subset is refused when the CRD is loaded, so a test
 * never silently runs without the rule a real apiserver would enforce.
 */
import { deepEqual, isObject } from './json.js';

/** A runtime failure (no such key, index out of bounds...): the apiserver reports it as a failed rule. */
export class CelEvalError extends Error {}

type Node =
  | { readonly k: 'lit'; readonly v: unknown }
  | { readonly k: 'ident'; readonly name: string }
  | { readonly k: 'select'; readonly operand: Node; readonly field: string }
  | { readonly k: 'index'; readonly operand: Node; readonly index: Node }
  | { readonly k: 'call'; readonly fn: string; readonly target: Node | undefined; readonly args: Node[] }
  | { readonly k: 'list'; readonly items: Node[] }
  | { readonly k: 'map'; readonly entries: Array<readonly [Node, Node]> }
  | { readonly k: 'unary'; readonly op: '!' | '-'; readonly operand: Node }
  | { readonly k: 'binary'; readonly op: string; readonly left: Node; readonly right: Node }
  | { readonly k: 'cond'; readonly test: Node; readonly then: Node; readonly otherwise: Node };

interface Token {
  readonly t: 'num' | 'str' | 'id' | 'op' | 'end';
  readonly v: string | number;
  readonly pos: number;
}

const OPERATORS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '!', '+', '-', '*', '/', '%', '?', ':'];
const PUNCTUATION = ['.', ',', '(', ')', '[', ']', '{', '}'];
const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '`': '`',
  '?': '?',
};

function unescapeCel(body: string, rule: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i] ?? '';
    if (e in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[e];
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const width = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      out += String.fromCodePoint(Number.parseInt(body.slice(i + 1, i + 1 + width), 16));
      i += width;
    } else if (/[0-3]/.test(e)) {
      out += String.fromCodePoint(Number.parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else {
      throw new Error(`invalid escape \\${e} in CEL rule ${rule}`);
    }
  }
  return out;
}

function readString(src: string, pos: number): { value: string; end: number } {
  let i = pos;
  let raw = false;
  if (src[i] === 'r' || src[i] === 'R') {
    raw = true;
    i++;
  }
  const quote = src.startsWith("'''", i) || src.startsWith('"""', i) ? src.slice(i, i + 3) : (src[i] ?? '');
  i += quote.length;
  let body = '';
  while (!src.startsWith(quote, i)) {
    if (i >= src.length) throw new Error(`unterminated string in CEL rule ${src}`);
    if (!raw && src[i] === '\\') body += src[i++];
    body += src[i++];
  }
  return { value: raw ? body : unescapeCel(body, src), end: i + quote.length };
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const rest = src.slice(i);
    const space = /^(\s+|\/\/[^\n]*)/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    if (/^[rR]?['"]/.test(rest)) {
      const { value, end } = readString(src, i);
      tokens.push({ t: 'str', v: value, pos: i });
      i = end;
      continue;
    }
    const num = /^(0x[0-9a-fA-F]+|\d+(\.\d+)?([eE][+-]?\d+)?)[uU]?/.exec(rest);
    if (num) {
      tokens.push({ t: 'num', v: Number(num[1]), pos: i });
      i += num[0].length;
      continue;
    }
    const id = /^[_a-zA-Z][_a-zA-Z0-9]*/.exec(rest);
    if (id) {
      tokens.push({ t: 'id', v: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    const op = [...OPERATORS, ...PUNCTUATION].find((o) => rest.startsWith(o));
    if (!op) throw new Error(`unexpected character ${JSON.stringify(rest[0])} in CEL rule ${src}`);
    tokens.push({ t: 'op', v: op, pos: i });
    i += op.length;
  }
  tokens.push({ t: 'end', v: '', pos: src.length });
  return tokens;
}

const RELATIONS = ['<', '<=', '>', '>=', '==', '!=', 'in'];

/** Recursive descent over CEL's grammar, lowest precedence first. */
class Parser {
  private i = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly src: string,
  ) {}

  parse(): Node {
    const node = this.expr();
    if (this.peek().t !== 'end') this.fail('unexpected trailing input');
    return node;
  }

  private peek(): Token {
    return this.tokens[this.i] ?? { t: 'end', v: '', pos: this.src.length };
  }

  private isOp(v: string): boolean {
    const tok = this.peek();
    return (tok.t === 'op' || (tok.t === 'id' && v === 'in')) && tok.v === v;
  }

  private take(v: string): void {
    if (!this.isOp(v)) this.fail(`expected ${v}`);
    this.i++;
  }

  private fail(why: string): never {
    throw new Error(`CEL rule ${this.src}: ${why} at position ${this.peek().pos}`);
  }

  private expr(): Node {
    const test = this.binary(0);
    if (!this.isOp('?')) return test;
    this.i++;
    const then = this.binary(0);
    this.take(':');
    return { k: 'cond', test, then, otherwise: this.expr() };
  }

  /** Levels: `||`, `&&`, relations, additive, multiplicative. */
  private binary(level: number): Node {
    const levels = [['||'], ['&&'], RELATIONS, ['+', '-'], ['*', '/', '%']];
    const ops = levels[level];
    if (!ops) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const op = ops.find((o) => this.isOp(o));
      if (!op) return left;
      this.i++;
      left = { k: 'binary', op, left, right: this.binary(level + 1) };
    }
  }

  private unary(): Node {
    if (this.isOp('!') || this.isOp('-')) {
      const op = this.peek().v as '!' | '-';
      this.i++;
      return { k: 'unary', op, operand: this.unary() };
    }
    return this.member();
  }

  private member(): Node {
    let node = this.primary();
    for (;;) {
      if (this.isOp('.')) {
        this.i++;
        const name = this.identifier();
        if (this.isOp('(')) node = { k: 'call', fn: name, target: node, args: this.args(')') };
        else node = { k: 'select', operand: node, field: name };
      } else if (this.isOp('[')) {
        this.i++;
        const index = this.expr();
        this.take(']');
        node = { k: 'index', operand: node, index };
      } else {
        return node;
      }
    }
  }

  private identifier(): string {
    const tok = this.peek();
    if (tok.t !== 'id') this.fail('expected an identifier');
    this.i++;
    return String(tok.v);
  }

  private args(close: string): Node[] {
    this.i++;
    const items: Node[] = [];
    while (!this.isOp(close)) {
      items.push(this.expr());
      if (!this.isOp(',')) break;
      this.i++;
    }
    this.take(close);
    return items;
  }

  private primary(): Node {
    const tok = this.peek();
    if (tok.t === 'num' || tok.t === 'str') {
      this.i++;
      return { k: 'lit', v: tok.v };
    }
    if (tok.t === 'id') {
      this.i++;
      const literals: Record<string, unknown> = { true: true, false: false, null: null };
      if (String(tok.v) in literals) return { k: 'lit', v: literals[String(tok.v)] };
      if (this.isOp('(')) return { k: 'call', fn: String(tok.v), target: undefined, args: this.args(')') };
      return { k: 'ident', name: String(tok.v) };
    }
    if (this.isOp('(')) {
      this.i++;
      const inner = this.expr();
      this.take(')');
      return inner;
    }
    if (this.isOp('[')) return { k: 'list', items: this.args(']') };
    if (this.isOp('{')) return { k: 'map', entries: this.mapEntries() };
    return this.fail('unexpected token');
  }

  private mapEntries(): Array<readonly [Node, Node]> {
    this.i++;
    const entries: Array<readonly [Node, Node]> = [];
    while (!this.isOp('}')) {
      const key = this.expr();
      this.take(':');
      entries.push([key, this.expr()]);
      if (!this.isOp(',')) break;
      this.i++;
    }
    this.take('}');
    return entries;
  }
}

type Env = ReadonlyMap<string, unknown>;
type Fn = (target: unknown, args: unknown[]) => unknown;

const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

function typeName(v: unknown): string {
  if (v === null) return 'null_type';
  if (Array.isArray(v)) return 'list';
  if (isObject(v)) return 'map';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'double';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

function noOverload(fn: string, ...values: unknown[]): CelEvalError {
  return new CelEvalError(`no such overload: ${fn}(${values.map(typeName).join(', ')})`);
}

function str(v: unknown, fn: string): string {
  if (typeof v !== 'string') throw noOverload(fn, v);
  return v;
}

function int(v: unknown, fn: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw noOverload(fn, v);
  return v;
}

/** CEL indexes strings by code point, not by UTF-16 unit. */
function codePoints(s: string): string[] {
  return Array.from(s);
}

function indexOf(s: string, sub: string, from: number, last: boolean): number {
  const cs = codePoints(s);
  const subLen = codePoints(sub).length;
  if (from < 0 || from > cs.length) throw new CelEvalError(`index out of range: ${from}`);
  const matchesAt = (i: number) => cs.slice(i, i + subLen).join('') === sub;
  if (last) {
    for (let i = Math.min(from, cs.length - subLen); i >= 0; i--) if (matchesAt(i)) return i;
    return -1;
  }
  for (let i = from; i + subLen <= cs.length; i++) if (matchesAt(i)) return i;
  return -1;
}

function size(v: unknown): number {
  if (typeof v === 'string') return codePoints(v).length;
  if (Array.isArray(v)) return v.length;
  if (isObject(v)) return Object.keys(v).length;
  throw noOverload('size', v);
}

/** RE2 and JavaScript agree on the syntax CRD rules use; `u` makes `.` and classes work on code points. */
function regex(pattern: string): RegExp {
  try {
    return new RegExp(pattern, 'u');
  } catch (e) {
    throw new CelEvalError(`invalid regular expression: ${(e as Error).message}`);
  }
}

const FUNCTIONS: Record<string, Fn> = {
  size: (t, [a]) => size(t ?? a),
  matches: (t, args) => {
    const [s, re] = t === undefined ? args : [t, args[0]];
    return regex(str(re, 'matches')).test(str(s, 'matches'));
  },
  startsWith: (t, [a]) => str(t, 'startsWith').startsWith(str(a, 'startsWith')),
  endsWith: (t, [a]) => str(t, 'endsWith').endsWith(str(a, 'endsWith')),
  contains: (t, [a]) => str(t, 'contains').includes(str(a, 'contains')),
  indexOf: (t, [a, from]) =>
    indexOf(str(t, 'indexOf'), str(a, 'indexOf'), from === undefined ? 0 : int(from, 'indexOf'), false),
  lastIndexOf: (t, [a, from]) => {
    const s = str(t, 'lastIndexOf');
    return indexOf(s, str(a, 'lastIndexOf'), from === undefined ? size(s) : int(from, 'lastIndexOf'), true);
  },
  lowerAscii: (t) => str(t, 'lowerAscii').replace(/[A-Z]/g, (c) => c.toLowerCase()),
  upperAscii: (t) => str(t, 'upperAscii').replace(/[a-z]/g, (c) => c.toUpperCase()),
  trim: (t) => str(t, 'trim').trim(),
  substring: (t, [start, end]) => {
    const cs = codePoints(str(t, 'substring'));
    const from = int(start, 'substring');
    const to = end === undefined ? cs.length : int(end, 'substring');
    if (from < 0 || to > cs.length || from > to)
      throw new CelEvalError(`index out of range: ${from > to ? to : from}`);
    return cs.slice(from, to).join('');
  },
  split: (t, [sep]) => str(t, 'split').split(str(sep, 'split')),
  replace: (t, [from, to]) => str(t, 'replace').split(str(from, 'replace')).join(str(to, 'replace')),
  join: (t, [sep]) => {
    if (!Array.isArray(t)) throw noOverload('join', t);
    return t.map((v) => str(v, 'join')).join(sep === undefined ? '' : str(sep, 'join'));
  },
  string: (_t, [a]) => {
    if (typeof a === 'string' || typeof a === 'number' || typeof a === 'boolean') return String(a);
    throw noOverload('string', a);
  },
  int: (_t, [a]) => {
    if (typeof a === 'number') return Math.trunc(a);
    if (typeof a === 'string' && /^[-+]?\d+$/.test(a)) return Number(a);
    throw new CelEvalError(`cannot convert ${JSON.stringify(a)} to int`);
  },
  double: (_t, [a]) => {
    const n = Number(a);
    if (typeof a === 'boolean' || a === null || Number.isNaN(n)) throw noOverload('double', a);
    return n;
  },
};

function compare(op: string, a: unknown, b: unknown): boolean {
  if (op === '==') return deepEqual(a, b);
  if (op === '!=') return !deepEqual(a, b);
  const comparable =
    (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
  if (!comparable) throw noOverload(op, a, b);
  const [x, y] = [a as number | string, b as number | string];
  return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
}

function arithmetic(op: string, a: unknown, b: unknown): unknown {
  if (op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
  if (op === '+' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (typeof a !== 'number' || typeof b !== 'number') throw noOverload(op, a, b);
  const integers = Number.isInteger(a) && Number.isInteger(b);
  if ((op === '/' || op === '%') && integers && b === 0) throw new CelEvalError(`division by zero`);
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return integers ? Math.trunc(a / b) : a / b;
    default:
      return a % b;
  }
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw noOverload(what, v);
  return v;
}

/**
 * `&&`, `||`, `all` and `exists` are commutative over errors: one operand with the decisive value wins even
 * when another failed; otherwise the first error is the result.
 */
function absorbing(decisive: boolean, what: string, operands: Iterable<() => unknown>): boolean {
  let error: unknown;
  for (const operand of operands) {
    try {
      if (bool(operand(), what) === decisive) return decisive;
    } catch (e) {
      if (!(e instanceof CelEvalError)) throw e;
      error ??= e;
    }
  }
  if (error) throw error;
  return !decisive;
}

function select(operand: unknown, field: string): unknown {
  if (!isObject(operand)) throw new CelEvalError(`no such key: ${field}`);
  if (!Object.hasOwn(operand, field)) throw new CelEvalError(`no such key: ${field}`);
  return operand[field];
}

function index(operand: unknown, key: unknown): unknown {
  if (Array.isArray(operand)) {
    const i = int(key, '_[_]');
    if (i < 0 || i >= operand.length) throw new CelEvalError(`index out of bounds: ${i}`);
    return operand[i];
  }
  if (isObject(operand) && typeof key === 'string') {
    if (!Object.hasOwn(operand, key)) throw new CelEvalError(`no such key: ${key}`);
    return operand[key];
  }
  throw noOverload('_[_]', operand, key);
}

function contains(collection: unknown, item: unknown): boolean {
  if (Array.isArray(collection)) return collection.some((v) => deepEqual(v, item));
  if (isObject(collection)) return typeof item === 'string' && Object.hasOwn(collection, item);
  throw noOverload('@in', item, collection);
}

type CallNode = Extract<Node, { k: 'call' }>;

function checkCall(node: CallNode, src: string): void {
  if (node.target && MACROS.has(node.fn)) {
    const [variable, ...body] = node.args;
    const arity = node.fn === 'map' ? [1, 2] : [1];
    if (variable?.k !== 'ident' || !arity.includes(body.length))
      throw new Error(`CEL rule ${src}: ${node.fn}() needs a variable and an expression`);
  } else if (node.fn === 'has' && !node.target) {
    if (node.args.length !== 1 || node.args[0]?.k !== 'select')
      throw new Error(`CEL rule ${src}: has() needs a field selection`);
  } else if (!(node.fn in FUNCTIONS)) {
    throw new Error(`CEL rule ${src}: function ${node.fn} is outside the fake apiserver's CEL subset`);
  }
}

/** Sub-expressions, each with the variables it may reference (a macro's body also sees its variable). */
function children(node: Node, scope: ReadonlySet<string>): Array<[Node, ReadonlySet<string>]> {
  const plain = (nodes: Node[]) => nodes.map((n): [Node, ReadonlySet<string>] => [n, scope]);
  switch (node.k) {
    case 'lit':
    case 'ident':
      return [];
    case 'select':
    case 'unary':
      return plain([node.operand]);
    case 'index':
      return plain([node.operand, node.index]);
    case 'list':
      return plain(node.items);
    case 'map':
      return plain(node.entries.flat());
    case 'binary':
      return plain([node.left, node.right]);
    case 'cond':
      return plain([node.test, node.then, node.otherwise]);
    case 'call': {
      if (!node.target || !MACROS.has(node.fn))
        return plain(node.target ? [node.target, ...node.args] : node.args);
      const [variable, ...body] = node.args as [Extract<Node, { k: 'ident' }>, ...Node[]];
      const inner = new Set([...scope, variable.name]);
      return [[node.target, scope], ...body.map((n): [Node, ReadonlySet<string>] => [n, inner])];
    }
  }
}

/** Pre-order: a node is visited (and may throw) before its children are looked at. */
function walk(
  node: Node,
  scope: ReadonlySet<string>,
  visit: (node: Node, scope: ReadonlySet<string>) => void,
): void {
  visit(node, scope);
  for (const [child, childScope] of children(node, scope)) walk(child, childScope, visit);
}

export class CelProgram {
  private constructor(
    private readonly root: Node,
    /** Transition rules (those reading `oldSelf`) only run when an old value correlates. */
    readonly usesOldSelf: boolean,
  ) {}

  /** Parses and checks `src` against the supported subset; throws for anything outside it. */
  static compile(src: string): CelProgram {
    const root = new Parser(tokenize(src), src).parse();
    let usesOldSelf = false;
    walk(root, new Set(), (node, scope) => {
      if (node.k === 'ident' && node.name === 'oldSelf') usesOldSelf = true;
      else if (node.k === 'ident' && node.name !== 'self' && !scope.has(node.name))
        throw new Error(`CEL rule ${src}: undeclared reference to '${node.name}'`);
      else if (node.k === 'call') checkCall(node, src);
    });
    return new CelProgram(root, usesOldSelf);
  }

  /** Evaluates with `self` (and `oldSelf`) bound; throws CelEvalError for runtime errors. */
  evaluate(vars: Readonly<Record<string, unknown>>): unknown {
    return this.eval(this.root, new Map(Object.entries(vars)));
  }

  private eval(node: Node, env: Env): unknown {
    switch (node.k) {
      case 'lit':
        return node.v;
      case 'ident':
        if (!env.has(node.name)) throw new CelEvalError(`no such attribute: ${node.name}`);
        return env.get(node.name);
      case 'select':
        return select(this.eval(node.operand, env), node.field);
      case 'index':
        return index(this.eval(node.operand, env), this.eval(node.index, env));
      case 'list':
        return node.items.map((item) => this.eval(item, env));
      case 'map':
        return Object.fromEntries(node.entries.map(([k, v]) => [this.eval(k, env), this.eval(v, env)]));
      case 'unary': {
        const value = this.eval(node.operand, env);
        if (node.op === '!') return !bool(value, '!_');
        if (typeof value !== 'number') throw noOverload('-_', value);
        return -value;
      }
      case 'cond':
        return bool(this.eval(node.test, env), '_?_:_')
          ? this.eval(node.then, env)
          : this.eval(node.otherwise, env);
      case 'binary':
        return this.binary(node, env);
      case 'call':
        return this.call(node, env);
    }
  }

  private binary(node: Extract<Node, { k: 'binary' }>, env: Env): unknown {
    const { op, left, right } = node;
    if (op === '&&' || op === '||')
      return absorbing(op === '||', op, [() => this.eval(left, env), () => this.eval(right, env)]);
    const a = this.eval(left, env);
    const b = this.eval(right, env);
    if (op === 'in') return contains(b, a);
    if (RELATIONS.includes(op)) return compare(op, a, b);
    return arithmetic(op, a, b);
  }

  private call(node: CallNode, env: Env): unknown {
    if (node.target && MACROS.has(node.fn)) return this.macro(node, env);
    if (node.fn === 'has' && !node.target) {
      const arg = node.args[0] as Extract<Node, { k: 'select' }>;
      const operand = this.eval(arg.operand, env);
      if (!isObject(operand)) throw noOverload('has', operand);
      return Object.hasOwn(operand, arg.field);
    }
    const target = node.target ? this.eval(node.target, env) : undefined;
    const fn = FUNCTIONS[node.fn] as Fn;
    return fn(
      target,
      node.args.map((a) => this.eval(a, env)),
    );
  }

  private macro(node: CallNode, env: Env): unknown {
    const range = this.eval(node.target as Node, env);
    const items = Array.isArray(range) ? range : isObject(range) ? Object.keys(range) : undefined;
    if (!items) throw noOverload(node.fn, range);
    const [variable, ...body] = node.args as [Extract<Node, { k: 'ident' }>, ...Node[]];
    const run = (expr: Node, item: unknown) => this.eval(expr, new Map([...env, [variable.name, item]]));
    const predicate = body[0] as Node;
    switch (node.fn) {
      case 'all':
        return absorbing(
          false,
          'all',
          items.map((item) => () => run(predicate, item)),
        );
      case 'exists':
        return absorbing(
          true,
          'exists',
          items.map((item) => () => run(predicate, item)),
        );
      case 'exists_one':
        return items.filter((item) => bool(run(predicate, item), 'exists_one')).length === 1;
      case 'filter':
        return items.filter((item) => bool(run(predicate, item), 'filter'));
      default: {
        const [filter, transform] = body.length === 2 ? body : [undefined, predicate];
        return items
          .filter((item) => !filter || bool(run(filter, item), 'map'))
          .map((item) => run(transform as Node, item));
      }
    }
  }
}
