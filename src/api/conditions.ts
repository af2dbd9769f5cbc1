import type { Condition, ConditionStatus } from './types.js';

export interface ConditionInput {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

/**
 * Sets one condition the way apimachinery's `meta.SetStatusCondition` does: `lastTransitionTime`
 * moves only when the status flips, so re-running a reconcile that finds the same state writes the
 * same conditions and causes no status churn. Pure: returns a new list.
 */
export function setCondition(
  conditions: readonly Condition[],
  next: ConditionInput,
  now: Date,
  observedGeneration: number,
): { conditions: Condition[]; changed: boolean } {
  const existing = conditions.find((c) => c.type === next.type);
  const lastTransitionTime =
    existing && existing.status === next.status
      ? existing.lastTransitionTime
      : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const condition: Condition = { ...next, lastTransitionTime, observedGeneration };
  const changed =
    !existing ||
    existing.status !== condition.status ||
    existing.reason !== condition.reason ||
    existing.message !== condition.message ||
    existing.observedGeneration !== condition.observedGeneration ||
    existing.lastTransitionTime !== condition.lastTransitionTime;
  const others = conditions.filter((c) => c.type !== next.type);
  return {
    conditions: existing
      ? conditions.map((c) => (c.type === next.type ? condition : c))
      : [...others, condition],
    changed,
  };
}

/** Applies several conditions in order, keeping the types not mentioned. */
export function setConditions(
  conditions: readonly Condition[],
  updates: readonly ConditionInput[],
  now: Date,
  observedGeneration: number,
): { conditions: Condition[]; changed: boolean } {
  let current = [...conditions];
  let changed = false;
  for (const update of updates) {
    const result = setCondition(current, update, now, observedGeneration);
    current = result.conditions;
    changed ||= result.changed;
  }
  return { conditions: current, changed };
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
