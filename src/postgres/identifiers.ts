/**
 * The one place names reach SQL. Every identifier is validated against the conservative pattern the
 * CRD also enforces, and quoted on output, so no SQL is built by pasting unquoted input.
 */

/** Postgres truncates identifiers longer than NAMEDATALEN - 1 bytes; we refuse them instead. */
export const MAX_IDENTIFIER_BYTES = 63;
export const IDENTIFIER_PATTERN = /^[a-z_][a-z0-9_]*$/;

export class InvalidIdentifierError extends Error {
  override readonly name = 'InvalidIdentifierError';
  readonly reason = 'InvalidSpec';
  constructor(
    readonly what: string,
    readonly value: string,
    readonly problem: 'pattern' | 'length',
  ) {
    super(
      problem === 'pattern'
        ? `${what} ${JSON.stringify(value)} is not a valid identifier: use lower-case letters, digits and '_', starting with a letter or '_' (pattern ${IDENTIFIER_PATTERN.source})`
        : `${what} ${JSON.stringify(value)} is ${Buffer.byteLength(value)} bytes long; Postgres identifiers are limited to ${MAX_IDENTIFIER_BYTES} bytes (it would silently truncate the name)`,
    );
  }
}

/** Returns the problem with an identifier, or undefined when it is usable as is. */
export function identifierProblem(value: string): 'pattern' | 'length' | undefined {
  if (!IDENTIFIER_PATTERN.test(value)) return 'pattern';
  if (Buffer.byteLength(value, 'utf8') > MAX_IDENTIFIER_BYTES) return 'length';
  return undefined;
}

/** Throws `InvalidIdentifierError` naming `what` (e.g. `spec.endpoint.schema`) when `value` is unusable. */
export function assertIdentifier(what: string, value: string): string {
  const problem = identifierProblem(value);
  if (problem) throw new InvalidIdentifierError(what, value, problem);
  return value;
}

/** Quotes an identifier for SQL; also safe for names we did not validate (introspected ones). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."name"`. */
export function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** Quotes a string literal for DDL that cannot take parameters (COMMENT ON). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
