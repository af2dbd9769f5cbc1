/** The state of one schema as the database reports it: plain data, produced by introspection only. */

export interface ObservedColumn {
  readonly name: string;
  /** Normalised `format_type()` text. */
  readonly type: string;
  readonly nullable: boolean;
  readonly defaultSql: string | null;
  readonly comment: string | null;
}

export interface ObservedIndex {
  readonly name: string;
  readonly method: string;
  /** Key columns in order; `null` marks an expression key. */
  readonly keyColumns: readonly (string | null)[];
  readonly partial: boolean;
  readonly unique: boolean;
  readonly primary: boolean;
  /** False while a concurrent build runs or after one failed; such an index is useless and must be rebuilt. */
  readonly valid: boolean;
  readonly definition: string;
}

export interface ObservedTable {
  readonly name: string;
  readonly comment: string | null;
  readonly columns: readonly ObservedColumn[];
  readonly primaryKey: { readonly name: string; readonly columns: readonly string[] } | null;
  /** `validated` is false for a `NOT VALID` constraint whose existing rows were not checked yet. */
  readonly checks: ReadonlyArray<{
    readonly name: string;
    readonly definition: string;
    readonly validated: boolean;
  }>;
  readonly indexes: readonly ObservedIndex[];
}

export interface ObservedSchema {
  readonly schema: string;
  readonly exists: boolean;
  readonly tables: readonly ObservedTable[];
}
