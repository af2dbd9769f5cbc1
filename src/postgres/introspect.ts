import type { ObservedSchema } from './observed.js';
import {
  OBSERVE_SCHEMA_SQL,
  parseObserveSchema,
  type RawObserveSchemaRow,
} from './queries/observe-schema.sql.js';
import type { Queryable } from './queryable.js';

/**
 * Reads the state of `schema` in one round trip: of the tables named in `tables`, or of all of them.
 * Read-only; takes no lock on user tables.
 */
export async function observeSchema(
  db: Queryable,
  schema: string,
  tables?: readonly string[],
): Promise<ObservedSchema> {
  // Planning this catalog query costs more than running it; a named statement is planned once per connection.
  const { rows } = await db.query<RawObserveSchemaRow>({
    name: 'cdm_sink_observe_schema',
    text: OBSERVE_SCHEMA_SQL,
    values: [schema, tables ? [...tables] : null],
  });
  return parseObserveSchema(schema, rows[0]!);
}
