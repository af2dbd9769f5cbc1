import { describe, expect, it } from 'vitest';
import { CDM_WORK_MODELS } from '../models/index.js';
import { WORK_ITEM } from '../models/work-item.js';
import { desiredSchema } from './desired-schema.js';
import type { ObservedSchema, ObservedTable } from './observed.js';
import { parseTableOwner, withOwnership } from './ownership.js';
import { planSchema } from './plan.js';
import { desiredTable, type TableSpec } from './table-spec.js';

const LAYOUT = { schema: 'cdm_work', tablePrefix: 'cdm_', sinkId: 'ns/a' };
const POLICY = { drift: 'Correct' as const, adopt: false, previouslyProvisioned: new Set<string>() };

/** The observed form of a table exactly as planned: what introspection returns after a clean apply. */
function observedFrom(table: TableSpec, sinkTables: readonly string[] = [table.name]): ObservedTable {
  const owner = { ...table, origin: 'created' as const, sinkTables };
  return {
    name: table.name,
    comment: withOwnership(table.description, owner),
    columns: table.columns.map((c) => ({
      name: c.name,
      type: c.formattedType,
      nullable: c.nullable,
      defaultSql: c.defaultSql ?? null,
      comment: c.comment,
    })),
    primaryKey: table.primaryKey,
    checks: table.columns.flatMap((c) =>
      c.check ? [{ name: c.check.name, definition: c.check.sql, validated: true }] : [],
    ),
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
      tables: desired.tables.map((t) => observedFrom(t, desired.tables.map((d) => d.name).sort())),
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
    const table = observedFrom(desiredTable(WORK_ITEM, LAYOUT));
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

  describe('ownership', () => {
    const item = desiredTable(WORK_ITEM, LAYOUT);
    const only = desiredSchema([WORK_ITEM], LAYOUT);
    const theUsers: ObservedTable = {
      name: item.name,
      comment: 'the team table',
      columns: [
        { name: 'id', type: 'integer', nullable: false, defaultSql: null, comment: null },
        { name: 'payload', type: 'text', nullable: true, defaultSql: null, comment: null },
      ],
      primaryKey: { name: 'p', columns: ['id'] },
      checks: [],
      indexes: [],
    };
    const compatible: ObservedTable = {
      ...observedFrom(item),
      comment: 'kept by the team',
      columns: observedFrom(item)
        .columns.filter((c) => c.name !== 'labels')
        .map((c) => ({ ...c, comment: 'theirs' })),
      indexes: [],
      checks: [],
    };

    it('touches nothing on a table without our ownership comment, in either drift mode', () => {
      for (const drift of ['Correct', 'Report'] as const) {
        const plan = planSchema(
          only,
          { schema: 'cdm_work', exists: true, tables: [theUsers] },
          { ...POLICY, drift },
        );
        expect(plan.steps).toEqual([]);
        expect(plan.findings).toEqual([
          expect.objectContaining({ kind: 'unmanagedTable', severity: 'conflict' }),
        ]);
        expect(plan.findings[0]?.message).toMatch(/spec\.policy\.adopt: true/);
      }
    });

    it("adopts a compatible table with additive steps only, keeping its comment and its columns' comments", () => {
      const plan = planSchema(
        only,
        { schema: 'cdm_work', exists: true, tables: [compatible] },
        { ...POLICY, adopt: true, drift: 'Report' },
      );
      expect(plan.findings.filter((f) => f.severity !== 'info')).toEqual([]);
      expect(new Set(plan.steps.map((s) => s.kind))).toEqual(
        new Set(['addColumn', 'addCheck', 'validateCheck', 'createIndex', 'comment']),
      );
      expect(plan.steps.filter((s) => s.kind === 'addColumn').map((s) => s.target)).toEqual([
        'cdm_work.cdm_work_item.labels',
      ]);
      const comment = plan.steps.find((s) => s.kind === 'comment');
      expect(comment?.target).toBe('cdm_work.cdm_work_item');
      expect(comment?.statements[0]?.sql).toContain(
        "IS 'kept by the team\n\nManaged by cdm-sink-operator: model=cdm.work.item",
      );
      expect(comment?.statements[0]?.sql).toContain('origin=adopted');
      const sql = plan.steps.flatMap((s) => s.statements.map((st) => st.sql)).join('\n');
      expect(sql).not.toMatch(/DROP|ALTER COLUMN|RENAME/);
    });

    it('refuses to adopt a table whose columns or key contradict the model', () => {
      const plan = planSchema(
        only,
        { schema: 'cdm_work', exists: true, tables: [theUsers] },
        { ...POLICY, adopt: true },
      );
      expect(plan.steps).toEqual([]);
      expect(plan.findings).toEqual([
        expect.objectContaining({ kind: 'incompatibleTable', severity: 'conflict' }),
      ]);
      expect(plan.findings[0]?.message).toMatch(/column id is NOT NULL without a default/);
      expect(plan.findings[0]?.message).toMatch(/primary key is \(id\), the model wants \(cdm_id\)/);
    });

    it('counts an ownership line of the first release (no origin) as created, and only records it anew', () => {
      const legacy = {
        ...observedFrom(item),
        comment: `${item.description}\n\nManaged by cdm-sink-operator: model=${item.modelId} version=${item.modelVersion} sink=${item.sinkId}`,
      };
      expect(parseTableOwner(legacy.comment)).toMatchObject({ origin: 'created', sinkTables: [] });
      const plan = planSchema(only, { schema: 'cdm_work', exists: true, tables: [legacy] }, POLICY);
      expect(plan.findings).toEqual([]);
      expect(plan.steps.map((s) => [s.kind, s.description])).toEqual([
        ['comment', 'comment on table cdm_work.cdm_work_item (ownership record)'],
      ]);
    });

    it("knows a missing table was provisioned from its siblings' ownership lines, without the catalog", () => {
      const two = desiredSchema([WORK_ITEM, CDM_WORK_MODELS[0]!], LAYOUT);
      const names = two.tables.map((t) => t.name).sort();
      const observed: ObservedSchema = {
        schema: 'cdm_work',
        exists: true,
        tables: [observedFrom(two.tables[0]!, names)],
      };
      const reported = planSchema(two, observed, { ...POLICY, drift: 'Report' });
      expect(reported.steps).toEqual([]);
      expect(reported.findings).toEqual([
        expect.objectContaining({
          kind: 'missingTable',
          table: `cdm_work.${two.tables[1]!.name}`,
          corrected: false,
        }),
      ]);
      // A model added to the spec later is new, not drift: the siblings never listed it.
      const fresh = planSchema(
        two,
        { ...observed, tables: [observedFrom(two.tables[0]!, [two.tables[0]!.name])] },
        { ...POLICY, drift: 'Report' },
      );
      expect(fresh.findings.filter((f) => f.kind === 'missingTable')).toEqual([]);
      expect(fresh.steps.map((s) => s.kind)).toContain('createTable');
    });
  });

  it('adds a missing CHECK as NOT VALID, then validates it outside the transaction', () => {
    const item = desiredTable(WORK_ITEM, LAYOUT);
    const plan = planSchema(
      desiredSchema([WORK_ITEM], LAYOUT),
      { schema: 'cdm_work', exists: true, tables: [{ ...observedFrom(item), checks: [] }] },
      POLICY,
    );
    expect(plan.steps.map((s) => [s.kind, s.statements.map((st) => st.transactional)])).toEqual([
      ['addCheck', [true]],
      ['validateCheck', [false]],
    ]);
    expect(plan.steps[0]?.statements[0]?.sql).toMatch(
      /ADD CONSTRAINT "cdm_work_item_status_category_check" CHECK .* NOT VALID$/,
    );
    expect(plan.findings).toEqual([expect.objectContaining({ kind: 'missingCheck', corrected: true })]);
  });
});
