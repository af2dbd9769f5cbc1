import { Composer, type Document, isScalar, Lexer, LineCounter, type Node, Parser, visit } from 'yaml';
import { excerpt } from '../api/excerpt.js';

export interface StreamDocument {
  /** 1-based position in the stream. */
  readonly index: number;
  readonly document: Document.Parsed;
  /** The first thing wrong with the YAML itself, with line and column. */
  readonly problem?: string;
}

export type ParsedStream =
  | { readonly documents: readonly StreamDocument[] }
  | { readonly over: 'documents' | 'tokens'; readonly index: number };

export interface StreamLimits {
  readonly documents: number;
  readonly tokens: number;
}

const MESSAGE_CHARACTERS = 300;

/**
 * Splits a multi-document YAML stream lazily, stopping as soon as a limit is passed. The `yaml`
 * package's `parseAllDocuments` builds every document first: 8 MiB of `---` lines is two million of
 * them (half a minute, 2 GB), and 8 MiB of `[1,1,1,…]` took a minute and 4 GB, because the package
 * spends microseconds and hundreds of bytes on every token. Key uniqueness is checked here in one pass
 * per mapping: the package's own check compares each key with every earlier one (40,000 keys: 25 s).
 */
export function parseStream(text: string, limits: StreamLimits): ParsedStream {
  const lines = new LineCounter();
  const parser = new Parser(lines.addNewLine);
  const composer = new Composer({ uniqueKeys: false });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `line ${line}, column ${col}`;
  };
  let tokens = 0;
  function* budgeted() {
    // What `Parser.parse` does, with a count of the lexer's tokens on the way.
    lines.addNewLine(0);
    for (const lexeme of new Lexer().lex(text)) {
      tokens += 1;
      if (tokens > limits.tokens) return;
      yield* parser.next(lexeme);
    }
    yield* parser.end();
  }
  const documents: StreamDocument[] = [];
  for (const document of composer.compose(budgeted())) {
    const index = documents.length + 1;
    if (tokens > limits.tokens) break;
    if (index > limits.documents) return { over: 'documents', index };
    const error = document.errors[0];
    const problem = error
      ? `${clip(error.message)}${error.pos[0] >= 0 ? ` at ${at(error.pos[0])}` : ''}`
      : duplicateKey(document, at);
    documents.push(problem ? { index, document, problem } : { index, document });
  }
  if (tokens > limits.tokens) return { over: 'tokens', index: documents.length + 1 };
  return { documents };
}

function duplicateKey(document: Document.Parsed, at: (offset: number) => string): string | undefined {
  let problem: string | undefined;
  visit(document, {
    Map(_key, map) {
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        // As the package compares keys: scalars by value, anything else by identity.
        const id = isScalar(key) ? key.value : key;
        if (seen.has(id)) {
          const offset = (key as Node | null)?.range?.[0];
          problem = `Map keys must be unique; ${isScalar(key) ? excerpt(id) : 'a key'} appears twice${offset === undefined ? '' : ` (again at ${at(offset)})`}`;
          return visit.BREAK;
        }
        seen.add(id);
      }
      return undefined;
    },
  });
  return problem;
}

function clip(message: string): string {
  return message.length > MESSAGE_CHARACTERS ? `${message.slice(0, MESSAGE_CHARACTERS)}…` : message;
}
