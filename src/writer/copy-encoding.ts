/**
 * COPY text-format encoding of single fields, and decoding of whole lines.
 *
 * Why every layer matters: an unescaped backslash is read as an escape sequence and silently corrupts
 * the text (`C:\new` becomes `C:` + newline + `ew`); a raw tab or newline shifts columns. Arrays need two
 * layers: the array literal (every element double-quoted, so an element `NULL` stays a string) and then
 * COPY's own escaping of the whole literal. The escaped form is also unambiguous, which is why the row
 * hash is computed over it.
 */

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIAL_ALL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/** COPY's marker for NULL. A string `\N` is escaped to `\\N`, so the two never meet. */
export const COPY_NULL = '\\N';

/** Escapes one text field for COPY's text format. */
export function copyEscape(text: string): string {
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]!) : text;
}

const ARRAY_SPECIAL = /[\\"]/g;

/** A Postgres array literal with every element quoted: `{"a","b \"c\""}`. */
export function arrayLiteral(elements: readonly string[]): string {
  let out = '{';
  for (let i = 0; i < elements.length; i++) {
    out += `${i === 0 ? '' : ','}"${elements[i]!.replace(ARRAY_SPECIAL, '\\$&')}"`;
  }
  return out + '}';
}

const COPY_UNESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '\\': '\\' };

/** The fields of one COPY text line (without its newline); `\N` becomes null. */
export function decodeCopyLine(line: string): (string | null)[] {
  return line.split('\t').map((field) => {
    if (field === COPY_NULL) return null;
    return field.includes('\\') ? field.replace(/\\(.)/g, (_, c: string) => COPY_UNESCAPES[c] ?? c) : field;
  });
}
