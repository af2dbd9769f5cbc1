import type { ObservedTable } from './observed.js';
import { sameList } from './same-list.js';
import type { TableSpec } from './table-spec.js';
import { normalizeType } from './type-names.js';

/**
 * Why an existing table that is not ours cannot be adopted: a column whose type, nullability or key
 * contradicts the model, or a column outside the model that the writer's inserts could not satisfy.
 */
export function adoptionProblems(table: TableSpec, observed: ObservedTable): string[] {
  const problems: string[] = [];
  const wanted = new Map(table.columns.map((c) => [c.name, c]));
  for (const column of observed.columns) {
    const model = wanted.get(column.name);
    if (!model) {
      if (!column.nullable && column.defaultSql === null)
        problems.push(`column ${column.name} is NOT NULL without a default and not part of the model`);
      continue;
    }
    if (column.type !== normalizeType(model.formattedType))
      problems.push(`column ${column.name} has type ${column.type}, the model wants ${model.formattedType}`);
    if (column.nullable !== model.nullable)
      problems.push(
        `column ${column.name} is ${column.nullable ? 'nullable' : 'NOT NULL'}, the model wants ${model.nullable ? 'nullable' : 'NOT NULL'}`,
      );
  }
  const key = observed.primaryKey?.columns ?? [];
  if (!sameList(key, table.primaryKey.columns))
    problems.push(
      `primary key is (${key.join(', ') || 'none'}), the model wants (${table.primaryKey.columns.join(', ')})`,
    );
  return problems;
}
