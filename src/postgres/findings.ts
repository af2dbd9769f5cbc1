/**
 * Differences the planner reports but never fixes by itself: changing them could rewrite or lose data,
 * or belongs to someone else. `drift` findings make the provision `Drifted`, `blocked` ones
 * `DestructiveChangeBlocked`; `info` ones are tolerated.
 */
export type FindingKind =
  | 'missingTable'
  | 'missingColumn'
  | 'missingIndex'
  | 'typeMismatch'
  | 'nullabilityMismatch'
  | 'defaultMismatch'
  | 'primaryKeyMismatch'
  | 'missingCheck'
  | 'indexDefinitionMismatch'
  | 'foreignColumn'
  | 'foreignIndex'
  | 'conflictingOwner'
  /** A table at the target name without our ownership comment (not adopted: `policy.adopt` is off). */
  | 'unmanagedTable'
  /** A table without our ownership comment that `policy.adopt` cannot take: it contradicts the model. */
  | 'incompatibleTable';

export interface Finding {
  readonly kind: FindingKind;
  /** `blocked`: a model version wants a change that is never applied automatically. */
  readonly severity: 'drift' | 'blocked' | 'info' | 'conflict';
  /** `schema.table` */
  readonly table: string;
  readonly column?: string;
  readonly index?: string;
  readonly expected?: string;
  readonly actual?: string;
  /** True when the plan re-creates what was missing (`drift: Correct`). */
  readonly corrected?: boolean;
  readonly message: string;
}
