/** The narrow port introspection needs from a connection or pool (node-postgres satisfies it). */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(config: {
    /** Naming a statement makes the server plan it once per connection instead of on every call. */
    readonly name?: string;
    readonly text: string;
    readonly values?: unknown[];
  }): Promise<{ rows: R[] }>;
}
