/** What can go wrong when a statement runs; apply refuses hazards the policy does not allow. */
export type Hazard =
  /** Takes a lock that blocks reads and writes of the table while it runs. */
  | 'ACQUIRES_ACCESS_EXCLUSIVE_LOCK'
  /** Takes a lock that blocks writes (not reads) of the table while it runs. */
  | 'ACQUIRES_SHARE_LOCK'
  /** Builds an index over existing rows; time and I/O grow with the table. */
  | 'INDEX_BUILD'
  /** Removes an index (an invalid one left by a failed build). */
  | 'INDEX_DROPPED'
  /** Adds a column the model wants NOT NULL as nullable, because existing rows have no value for it. */
  | 'NULLABLE_WHERE_MODEL_REQUIRES_VALUE'
  /** Reads every row to check a constraint (SHARE UPDATE EXCLUSIVE: reads and writes go on). */
  | 'VALIDATES_EXISTING_ROWS';

export type StepKind =
  | 'createSchema'
  | 'createTable'
  | 'addColumn'
  | 'createIndex'
  | 'rebuildIndex'
  | 'addCheck'
  | 'validateCheck'
  | 'comment';

/** One SQL statement with the safety data apply needs. */
export interface Statement {
  readonly sql: string;
  /** `CONCURRENTLY` statements cannot run inside a transaction block. */
  readonly transactional: boolean;
  readonly hazards: readonly Hazard[];
}

/** One planned change: what it is for, and the statements that make it. */
export interface PlanStep {
  readonly kind: StepKind;
  /** `schema` or `schema.table` or `schema.table.column`/`schema.index`. */
  readonly target: string;
  /** The table whose lock this step waits for, for error messages. */
  readonly table?: string;
  readonly description: string;
  readonly statements: readonly Statement[];
}
