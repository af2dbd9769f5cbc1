import type { TableStatus } from '../api/types.js';
import { structureHash } from '../catalog/index.js';
import { OperatorError } from '../errors/index.js';
import type { Plan } from '../postgres/index.js';

/** Each desired table's state as a plan, and the names observed alongside it, show it. Pure. */
export function tableStatuses(
  plan: Plan,
  observedNames: ReadonlySet<string>,
  failedTable?: string,
): TableStatus[] {
  return plan.desired.tables.map((table) => {
    const where = `${table.schema}.${table.name}`;
    const findings = plan.findings.filter((f) => f.table === where && f.severity !== 'info');
    const conflict = findings.find((f) => f.severity === 'conflict');
    const state: TableStatus['state'] = conflict
      ? 'Conflict'
      : failedTable === where
        ? 'Failed'
        : !observedNames.has(table.name)
          ? 'Pending'
          : findings.some((f) => !f.corrected)
            ? 'Drifted'
            : 'Ready';
    return {
      model: table.modelId,
      table: where,
      state,
      schemaHash: structureHash(table),
      message: (conflict ?? findings.find((f) => !f.corrected))?.message ?? '',
    };
  });
}

/** The Stalled error for a plan that found someone else's table, or `undefined` when there is none. */
export function conflictError(plan: Plan): OperatorError | undefined {
  const conflicts = plan.findings.filter((f) => f.severity === 'conflict');
  if (conflicts.length === 0) return undefined;
  const owned = conflicts.some((f) => f.kind === 'conflictingOwner');
  const messages = conflicts.map((c) => c.message).join('; ');
  return owned
    ? new OperatorError(
        'ConflictingOwner',
        `${messages}; choose another schema or tablePrefix, or delete the other provision`,
        false,
      )
    : new OperatorError('UnmanagedTableExists', messages, false);
}
