import { field, reference, sourceFields, withPlumbing } from './fields.js';
import type { ModelSpec } from './types.js';

export const WORK_WORKLOG: ModelSpec = Object.freeze<ModelSpec>({
  id: 'cdm.work.worklog',
  version: '1.0.0',
  displayName: 'Work log',
  description: 'Time logged against a work item.',
  fields: withPlumbing([
    ...sourceFields('worklog', 'Worklog'),
    reference('item_cdm_id', 'cdm.work.item', 'Item the time was logged on (cdm.work.item).', true),
    reference('project_cdm_id', 'cdm.work.project', "Project of the worklog's item, denormalised."),
    reference('author_cdm_id', 'cdm.work.user', 'Who logged the time (cdm.work.user).'),
    reference('update_author_cdm_id', 'cdm.work.user', 'Last editor (cdm.work.user).'),
    field('started_at', 'timestamp', 'When the logged work started.', { required: true }),
    field('time_spent_seconds', 'integer', 'Time spent in seconds; never negative.', {
      required: true,
      check: { kind: 'minimum', value: 0 },
    }),
    field('comment', 'string', 'Worklog comment as plain text.'),
    field('visibility', 'string', "Visibility restriction, e.g. 'role:Developers'."),
    field('created_at', 'timestamp', 'When the worklog was created in the source.', { required: true }),
    field('updated_at', 'timestamp', 'When the worklog last changed in the source.', { required: true }),
    field('deleted_at', 'timestamp', 'When the worklog was deleted in the source (soft delete).'),
  ]),
  indexes: [
    { suffix: 'item_idx', method: 'btree', keys: [{ column: 'item_cdm_id' }] },
    {
      suffix: 'author_started_idx',
      method: 'btree',
      keys: [{ column: 'author_cdm_id' }, { column: 'started_at' }],
    },
    { suffix: 'updated_idx', method: 'btree', keys: [{ column: 'updated_at' }] },
  ],
});
