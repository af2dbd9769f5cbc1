import { describe, expect, it } from 'vitest';
import { CDM_WORK_MODELS } from '../models/index.js';
import { WORK_ITEM } from '../models/work-item.js';
import { desiredSchema } from './desired-schema.js';
import type { ObservedSchema, ObservedTable } from './observed.js';
import { planSchema } from './plan.js';
import { desiredTable, type TableSpec } from './table-spec.js';

const LAYOUT = { schema: 'cdm_work', tablePrefix: 'cdm_', sinkId: 'ns/a' };
const POLICY = { drift: 'Correct' as const, previouslyProvisioned: new Set<string>() };

/** The observed form of a table exactly as planned: what introspection returns after a clean apply. */
function observedFrom(table: TableSpec): ObservedTable {
  return {
    name: table.name,
    comment: table.comment,
    columns: table.columns.map((c) => ({
      name: c.name,
      type: c.formattedType,
      nullable: c.nullable,
      defaultSql: c.defaultSql ?? null,
      comment: c.comment,
    })),
    primaryKey: table.primaryKey,
    checks: table.columns.flatMap((c) => (c.check ? [{ name: c.check.name, definition: c.check.sql }] : [])),
    indexes: [
      {
        name: table.primaryKey.name,
        method: 'btree',
        keyColumns: ['cdm_id'],
        partial: false,
        unique: true,
        primary: true,
        valid: true,
        definition: '',
      },
      ...table.indexes.map((i) => ({
        name: i.name,
        method: i.method,
        keyColumns: i.keyColumns,
        partial: Boolean(i.whereSql),
        unique: false,
        primary: false,
        valid: true,
        definition: '',
      })),
    ],
  };
}

describe('planSchema', () => {
  const desired = desiredSchema(CDM_WORK_MODELS, LAYOUT);

  it('plans the schema and one create-table step per model on an empty database', () => {
    const plan = planSchema(desired, { schema: 'cdm_work', exists: false, tables: [] }, POLICY);
    expect(plan.steps.map((s) => s.kind)).toEqual([
      'createSchema',
      ...CDM_WORK_MODELS.map(() => 'createTable'),
    ]);
    expect(plan.steps.every((s) => s.statements.every((st) => st.transactional))).toBe(true);
  });

  it('plans nothing when the observed state matches', () => {
    const observed: ObservedSchema = {
      schema: 'cdm_work',
      exists: true,
      tables: desired.tables.map(observedFrom),
    };
    const plan = planSchema(desired, observed, POLICY);
    expect(plan.steps).toEqual([]);
    expect(plan.findings).toEqual([]);
  });

  it('refuses to touch a table another sink owns', () => {
    const theirs = observedFrom(desiredTable(WORK_ITEM, { ...LAYOUT, sinkId: 'ns/other' }));
    const plan = planSchema(
      desiredSchema([WORK_ITEM], LAYOUT),
      { schema: 'cdm_work', exists: true, tables: [{ ...theirs, columns: theirs.columns.slice(1) }] },
      POLICY,
    );
    expect(plan.steps).toEqual([]);
    expect(plan.findings).toEqual([
      expect.objectContaining({
        kind: 'conflictingOwner',
        severity: 'conflict',
        actual: 'cdm.work.item of ns/other',
      }),
    ]);
  });

  it('tolerates and reports foreign columns and indexes', () => {
    const table = observedFrom(desired.tables[2]!);
    const extra: ObservedTable = {
      ...table,
      columns: [
        ...table.columns,
        { name: 'team_notes', type: 'text', nullable: true, defaultSql: null, comment: null },
      ],
      indexes: [
        ...table.indexes,
        {
          name: 'my_idx',
          method: 'btree',
          keyColumns: ['team_notes'],
          partial: false,
          unique: false,
          primary: false,
          valid: true,
          definition: 'CREATE INDEX my_idx',
        },
      ],
    };
    const plan = planSchema(
      desiredSchema([WORK_ITEM], LAYOUT),
      { schema: 'cdm_work', exists: true, tables: [extra] },
      POLICY,
    );
    expect(plan.steps).toEqual([]);
    expect(plan.findings.map((f) => [f.kind, f.severity])).toEqual([
      ['foreignColumn', 'info'],
      ['foreignIndex', 'info'],
    ]);
  });

  it('gives equal plans equal hashes', () => {
    const empty: ObservedSchema = { schema: 'cdm_work', exists: false, tables: [] };
    expect(planSchema(desired, empty, POLICY).hash).toBe(planSchema(desired, empty, POLICY).hash);
  });
});
