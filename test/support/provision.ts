import type pg from 'pg';
import type { ModelSpec } from '../../src/models/index.js';
import { commentOnTable, createIndex, createSchema, createTable } from '../../src/postgres/ddl.js';
import { withOwnership } from '../../src/postgres/ownership.js';
import { desiredTable, type SinkLayout } from '../../src/postgres/table-spec.js';

/** Creates the tables for `models` directly from the DDL generators: a fixture for tests of other parts. */
export async function provisionTables(
  pool: pg.Pool,
  layout: SinkLayout,
  models: readonly ModelSpec[],
): Promise<void> {
  const statements = [createSchema(layout.schema)];
  for (const model of models) {
    const table = desiredTable(model, layout);
    statements.push(
      createTable(table),
      ...table.indexes.map((i) => createIndex(table, i, false)),
      commentOnTable(
        table,
        withOwnership(table.description, { ...table, origin: 'created', sinkTables: [table.name] }),
      ),
    );
  }
  await pool.query(statements.map((s) => s.sql).join(';\n'));
}
