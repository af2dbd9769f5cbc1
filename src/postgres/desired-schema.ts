import { OperatorError } from '../errors/index.js';
import type { ModelSpec } from '../models/index.js';
import { identifierProblem, MAX_IDENTIFIER_BYTES } from './identifiers.js';
import type { DesiredSchema } from './plan.js';
import { desiredTable, nameProblems, type SinkLayout } from './table-spec.js';

/** One reason a layout cannot be used, with the spec field it comes from. */
export interface LayoutProblem {
  readonly field: 'schema' | 'tablePrefix';
  readonly message: string;
}

/**
 * Checks a layout before any SQL: identifiers must match the safe pattern, and every generated name
 * (tables, keys, checks, indexes) must fit Postgres' 63-byte limit, which it would otherwise silently
 * truncate into collisions.
 */
export function layoutProblems(models: readonly ModelSpec[], layout: SinkLayout): LayoutProblem[] {
  const problems: LayoutProblem[] = [];
  if (identifierProblem(layout.schema)) {
    const p = identifierProblem(layout.schema);
    problems.push({
      field: 'schema',
      message:
        p === 'length'
          ? `schema ${JSON.stringify(layout.schema)} is ${Buffer.byteLength(layout.schema)} bytes; the limit is ${MAX_IDENTIFIER_BYTES}`
          : `schema ${JSON.stringify(layout.schema)} must match ^[a-z_][a-z0-9_]*$ (lower-case letters, digits, '_')`,
    });
  }
  if (layout.tablePrefix !== '' && !/^[a-z_][a-z0-9_]*$/.test(layout.tablePrefix)) {
    problems.push({
      field: 'tablePrefix',
      message: `tablePrefix ${JSON.stringify(layout.tablePrefix)} must match ^[a-z_][a-z0-9_]*$ (lower-case letters, digits, '_')`,
    });
    return problems;
  }
  const tooLong = models
    .flatMap((m) => nameProblems(desiredTable(m, layout)))
    .filter((p) => p.problem === 'length');
  if (tooLong.length > 0) {
    const longest = tooLong.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const excess = longest.bytes - MAX_IDENTIFIER_BYTES;
    problems.push({
      field: 'tablePrefix',
      message: `tablePrefix ${JSON.stringify(layout.tablePrefix)} makes the name ${longest.name} ${longest.bytes} bytes long, over Postgres' ${MAX_IDENTIFIER_BYTES}-byte limit (${tooLong.length} name(s) too long); shorten the prefix by at least ${excess} byte(s)`,
    });
  }
  return problems;
}

/** The desired tables for `models` in `layout`; throws `OperatorError('InvalidSpec')` before any SQL when unusable. */
export function desiredSchema(models: readonly ModelSpec[], layout: SinkLayout): DesiredSchema {
  const problems = layoutProblems(models, layout);
  if (problems.length > 0) {
    throw new OperatorError('InvalidSpec', problems.map((p) => p.message).join('; '), false);
  }
  return { schema: layout.schema, tables: models.map((m) => desiredTable(m, layout)) };
}
