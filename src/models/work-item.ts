import { field, reference, sourceFields, stringArray, withPlumbing } from './fields.js';
import type { ModelSpec } from './types.js';

/** Normalised status categories; anything a source cannot map is 'unknown'. */
export const STATUS_CATEGORIES = Object.freeze(['todo', 'in_progress', 'done', 'unknown'] as const);

export const WORK_ITEM: ModelSpec = Object.freeze<ModelSpec>({
  id: 'cdm.work.item',
  version: '1.0.0',
  displayName: 'Work item',
  description:
    'A unit of tracked work (issue, task, story, bug, epic) normalised from a work-tracking system.',
  fields: withPlumbing([
    ...sourceFields('issue', 'Issue'),
    field('source_issue_key', 'string', "Human issue key, e.g. 'ENG-123'; changes when the issue moves."),
    reference('project_cdm_id', 'cdm.work.project', 'Project the item belongs to (cdm.work.project).', true),
    reference('parent_cdm_id', 'cdm.work.item', 'Parent item (sub-task parent or epic).'),
    reference('reporter_cdm_id', 'cdm.work.user', 'Reporter (cdm.work.user).'),
    reference('assignee_cdm_id', 'cdm.work.user', 'Assignee (cdm.work.user).'),
    reference('creator_cdm_id', 'cdm.work.user', 'Creator (cdm.work.user).'),
    field('issue_type', 'string', "Issue type name, e.g. 'Bug', 'Story'.", { required: true }),
    field('status', 'string', 'Status name in the source workflow.', { required: true }),
    field('status_category', 'string', 'Normalised status category: todo, in_progress, done or unknown.', {
      required: true,
      check: { kind: 'oneOf', values: STATUS_CATEGORIES },
    }),
    field('priority', 'string', 'Priority name.'),
    field('resolution', 'string', 'Resolution name.'),
    field('summary', 'string', 'One-line summary.', { required: true }),
    field('description', 'string', 'Description as plain text or markdown.'),
    stringArray('labels', 'Labels.'),
    stringArray('components', 'Component names.'),
    stringArray('fix_versions', 'Fix version names.'),
    field('due_date', 'date', 'Due date.'),
    field('story_points', 'number', 'Story point estimate.'),
    field('original_estimate_seconds', 'integer', 'Original time estimate in seconds.'),
    field('remaining_estimate_seconds', 'integer', 'Remaining time estimate in seconds.'),
    field('time_spent_seconds', 'integer', 'Time logged in seconds.'),
    field('url', 'string', 'Browse URL of the item.'),
    field('created_at', 'timestamp', 'When the item was created in the source.', { required: true }),
    field('updated_at', 'timestamp', 'When the item last changed in the source.', { required: true }),
    field('closed_at', 'timestamp', 'When the item was resolved; empty while open.'),
    field('deleted_at', 'timestamp', 'When the item was deleted in the source (soft delete).'),
  ]),
  indexes: [
    {
      suffix: 'project_updated_idx',
      method: 'btree',
      keys: [{ column: 'project_cdm_id' }, { column: 'updated_at', descending: true }],
    },
    {
      suffix: 'project_status_idx',
      method: 'btree',
      keys: [{ column: 'project_cdm_id' }, { column: 'status_category' }],
    },
    {
      suffix: 'assignee_open_idx',
      method: 'btree',
      keys: [{ column: 'assignee_cdm_id' }, { column: 'updated_at', descending: true }],
      where: "status_category <> 'done'",
    },
    {
      suffix: 'key_idx',
      method: 'btree',
      keys: [{ column: 'source_system' }, { column: 'source_instance' }, { column: 'source_issue_key' }],
    },
    { suffix: 'updated_idx', method: 'btree', keys: [{ column: 'updated_at' }] },
    { suffix: 'synced_idx', method: 'btree', keys: [{ column: 'synced_at' }] },
    { suffix: 'labels_gin', method: 'gin', keys: [{ column: 'labels' }] },
  ],
});
