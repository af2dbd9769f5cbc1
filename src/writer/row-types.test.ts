import { describe, expect, expectTypeOf, it } from 'vitest';
import { CDM_WORK_MODELS, defaultRegistry } from '../models/index.js';
import type {
  CdmModelId,
  CdmRowTypes,
  CdmWorkItemRow,
  CdmWorkProjectRow,
  RowOf,
} from '../models/row-types.generated.js';
import { requiredFields, rowFields } from './row-schema.js';
import { MINIMAL_ITEM_ROW } from './testing/item-row.js';
import { rowValidator } from './validate-rows.js';
import type { CdmSinkWriter, WriteResult } from './writer.js';

/**
 * The generated row types against the writer's run-time validation: what the types accept validates,
 * and what they reject fails validation too. The `@ts-expect-error` lines are checked by `tsc --noEmit`.
 */

const ITEM = defaultRegistry.get('cdm.work.item');
const validateItem = rowValidator(ITEM);

const minimal = MINIMAL_ITEM_ROW;

/** Every field an item row may carry; `Required` makes the compiler insist on each of them. */
const full: Required<CdmWorkItemRow> = {
  ...minimal,
  source_system: 'jira',
  source_instance: 'acme.atlassian.net',
  source_issue_id: '10001',
  source_issue_key: 'ENG-1',
  parent_cdm_id: 'jira:acme:item:0',
  reporter_cdm_id: 'jira:acme:user:1',
  assignee_cdm_id: null,
  creator_cdm_id: 'jira:acme:user:1',
  priority: 'High',
  resolution: null,
  description: 'Steps to reproduce',
  labels: ['backend', ''],
  components: [],
  fix_versions: ['1.0'],
  due_date: '2024-02-29',
  story_points: '2.50',
  original_estimate_seconds: '9007199254740993',
  remaining_estimate_seconds: 3600,
  time_spent_seconds: 0,
  url: 'https://acme.atlassian.net/browse/ENG-1',
  closed_at: '2024-05-03T10:00:00.123456Z',
  deleted_at: null,
  properties: { sprint: 'S1', nested: { list: [1, 'two', null, true], empty: {} } },
};

/** One row per model with just its required fields; the mapped type pairs each id with its row type. */
const minimalRows: { readonly [M in CdmModelId]: RowOf<M> } = {
  'cdm.work.project': { cdm_id: 'p', source_project_key: 'ENG', name: 'Engineering' },
  'cdm.work.user': { cdm_id: 'u', source_user_id: '5b10' },
  'cdm.work.item': minimal,
  'cdm.work.comment': {
    cdm_id: 'c',
    item_cdm_id: 'i',
    created_at: '2024-05-01T10:00:00Z',
    updated_at: '2024-05-01T10:00:00Z',
  },
  'cdm.work.worklog': {
    cdm_id: 'w',
    item_cdm_id: 'i',
    started_at: '2024-05-01T09:00:00Z',
    time_spent_seconds: 1800,
    created_at: '2024-05-01T10:00:00Z',
    updated_at: '2024-05-01T10:00:00Z',
  },
};

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];

describe('the generated row types', () => {
  it('accept a row with every optional field left out, and one with every field set', () => {
    expect(validateItem(minimal)).toBeUndefined();
    expect(validateItem(full)).toBeUndefined();
    expect(Object.keys(full).sort()).toEqual(
      rowFields(ITEM)
        .map((f) => f.name)
        .sort(),
    );
  });

  it('take an optional field set to undefined as left out, as validation does', () => {
    const row: CdmWorkItemRow = { ...minimal, priority: undefined, labels: undefined, properties: undefined };
    expect(validateItem(row)).toBeUndefined();
    const cleared = Object.fromEntries(Object.keys(full).map((name) => [name, undefined]));
    expect(validateItem({ ...cleared, ...minimal })).toBeUndefined();
  });

  it('require exactly the fields validation requires, for every model', () => {
    expectTypeOf<RequiredKeys<CdmWorkItemRow>>().toEqualTypeOf<
      | 'cdm_id'
      | 'project_cdm_id'
      | 'issue_type'
      | 'status'
      | 'status_category'
      | 'summary'
      | 'created_at'
      | 'updated_at'
    >();
    for (const model of CDM_WORK_MODELS) {
      const row = minimalRows[model.id as CdmModelId];
      expect(rowValidator(model)(row), model.id).toBeUndefined();
      expect(Object.keys(row).sort(), model.id).toEqual(
        requiredFields(model)
          .map((f) => f.name)
          .sort(),
      );
    }
  });

  it('reject what validation rejects: wrong types, unknown and writer-managed fields, missing ones', () => {
    const rejected: CdmWorkItemRow[] = [
      // @ts-expect-error a timestamp is an RFC 3339 string, not a Date
      { ...minimal, created_at: new Date() },
      // @ts-expect-error not one of the status categories
      { ...minimal, status_category: 'closed' },
      // @ts-expect-error a number or a decimal string, not a word
      { ...minimal, story_points: 'eight' },
      // @ts-expect-error bigint values are not accepted; a decimal string is
      { ...minimal, time_spent_seconds: 5n },
      // @ts-expect-error an array field may be left out, never null
      { ...minimal, labels: null },
      // @ts-expect-error an array of strings only
      { ...minimal, labels: ['ok', 7] },
      // @ts-expect-error not a field of cdm.work.item
      { ...minimal, colour: 'red' },
      // @ts-expect-error set by the writer, never by the row
      { ...minimal, synced_at: '2024-05-01T00:00:00Z' },
      // @ts-expect-error a JSON object, not an array
      { ...minimal, properties: ['a'] },
      // @ts-expect-error a Date is not plain JSON
      { ...minimal, properties: { at: new Date() } },
      // @ts-expect-error undefined is not plain JSON either
      { ...minimal, properties: { note: undefined } },
      // @ts-expect-error summary is required
      { ...minimal, summary: undefined },
    ];
    for (const [index, row] of rejected.entries()) expect(validateItem(row), `row ${index}`).toBeDefined();
  });

  it('map each model id to its row type', () => {
    expectTypeOf<RowOf<'cdm.work.item'>>().toEqualTypeOf<CdmWorkItemRow>();
    expectTypeOf<keyof CdmRowTypes>().toEqualTypeOf<CdmModelId>();
    expect(Object.keys(minimalRows)).toEqual(CDM_WORK_MODELS.map((m) => m.id));
  });
});

describe('CdmSinkWriter.write', () => {
  it('takes the rows of the model it is given and returns a result for that model', () => {
    const project: CdmWorkProjectRow = minimalRows['cdm.work.project'];
    // Compiled, never called: the checks are the types.
    const calls = (writer: CdmSinkWriter) => {
      expectTypeOf(writer.write('cdm.work.item', [minimal])).resolves.toEqualTypeOf<
        WriteResult<'cdm.work.item'>
      >();
      // @ts-expect-error a project row is not an item row
      void writer.write('cdm.work.item', [project]);
      // @ts-expect-error not a model of the writer
      void writer.write('cdm.crm.deal', []);
      // @ts-expect-error not a model of the writer
      void writer.assertProvisioned(['cdm.crm.deal']);
    };
    expect(calls).toBeTypeOf('function');
  });
});
