import type { ObservedSchema } from './observed.js';
import {
  OBSERVE_SCHEMA_SQL,
  parseObserveSchema,
  type RawObserveSchemaRow,
} from './queries/observe-schema.sql.js';
import type { Queryable } from './queryable.js';

/** Reads the whole state of `schema` in one round trip. Read-only; takes no lock on user tables. */
export async function observeSchema(db: Queryable, schema: string): Promise<ObservedSchema> {
  const { rows } = await db.query<RawObserveSchemaRow>(OBSERVE_SCHEMA_SQL, [schema]);
  return parseObserveSchema(schema, rows[0]!);
}
