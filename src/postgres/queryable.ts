/** The narrow port the schema engine needs from a connection or pool (node-postgres satisfies it). */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}
