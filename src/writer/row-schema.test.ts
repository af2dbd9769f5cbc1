import { describe, expect, it } from 'vitest';
import { CDM_WORK_MODELS, defaultRegistry, LOGICAL_TYPES } from '../models/index.js';
import { requiredFields, rowSchema } from './row-schema.js';

const item = defaultRegistry.get('cdm.work.item');

describe('rowSchema', () => {
  it('requires exactly the non-nullable fields without a default that the writer does not manage', () => {
    const schema = rowSchema(item);
    expect(schema.required).toEqual([
      'cdm_id',
      'project_cdm_id',
      'issue_type',
      'status',
      'status_category',
      'summary',
      'created_at',
      'updated_at',
    ]);
    expect(schema.additionalProperties).toBe(false);
  });

  it('leaves writer-managed plumbing out of the row and keeps properties', () => {
    const properties = rowSchema(item).properties as Record<string, unknown>;
    expect(properties).not.toHaveProperty('synced_at');
    expect(properties).not.toHaveProperty('_row_hash');
    expect(properties.properties).toMatchObject({ type: 'object', cdmJson: true });
  });

  it('derives enum from a oneOf check and minimum from a minimum check', () => {
    const itemProps = rowSchema(item).properties as Record<string, Record<string, unknown>>;
    expect(itemProps.status_category!.enum).toEqual(['todo', 'in_progress', 'done', 'unknown']);
    const worklog = rowSchema(defaultRegistry.get('cdm.work.worklog')).properties as Record<
      string,
      Record<string, unknown>
    >;
    expect(worklog.time_spent_seconds!.minimum).toBe(0);
  });

  it('lets nullable fields be null and takes types from LOGICAL_TYPES', () => {
    const props = rowSchema(item).properties as Record<string, Record<string, unknown>>;
    expect(props.closed_at).toMatchObject({ type: ['string', 'null'], format: 'date-time' });
    expect(props.created_at).toMatchObject({ type: 'string', format: 'date-time' });
    expect(props.story_points!.anyOf).toEqual([
      { type: 'null' },
      ...(LOGICAL_TYPES.number.jsonSchema.anyOf as []),
    ]);
    expect(props.labels).toMatchObject({ type: 'array', items: { type: 'string' } });
  });

  it('covers every field of every model that a row may carry', () => {
    for (const model of CDM_WORK_MODELS) {
      const names = Object.keys(rowSchema(model).properties as object);
      expect(names).toEqual(model.fields.filter((f) => !f.writerManaged).map((f) => f.name));
      for (const f of requiredFields(model)) expect(f.nullable || f.default).toBeFalsy();
    }
  });
});
