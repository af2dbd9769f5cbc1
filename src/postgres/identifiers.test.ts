import { describe, expect, it } from 'vitest';
import { assertIdentifier, identifierProblem, qualified, quoteLiteral } from './identifiers.js';

describe('identifiers', () => {
  it('accept lower-case names up to 63 bytes', () => {
    expect(identifierProblem('cdm_work')).toBeUndefined();
    expect(identifierProblem('a'.repeat(63))).toBeUndefined();
  });

  it('reject injection attempts, upper case and over-long names with the value and the limit', () => {
    expect(() => assertIdentifier('spec.endpoint.schema', 'cdm; drop table x')).toThrow(
      /spec.endpoint.schema "cdm; drop table x" is not a valid identifier/,
    );
    expect(identifierProblem('Cdm')).toBe('pattern');
    expect(() => assertIdentifier('schema', 'a'.repeat(64))).toThrow(/64 bytes long; .* limited to 63 bytes/);
  });

  it('quote names and literals so embedded quotes cannot escape', () => {
    expect(qualified('s', 'a"b')).toBe('"s"."a""b"');
    expect(quoteLiteral("it's")).toBe("'it''s'");
  });
});
