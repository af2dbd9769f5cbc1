import { field, reference, sourceFields, withPlumbing } from './fields.js';
import type { ModelSpec } from './types.js';

export const WORK_PROJECT: ModelSpec = Object.freeze<ModelSpec>({
  id: 'cdm.work.project',
  version: '1.0.0',
  displayName: 'Work project',
  description: 'A project (or space, board) that groups work items in a work-tracking system.',
  fields: withPlumbing([
    ...sourceFields('project', 'Project'),
    field('source_project_key', 'string', "Human project key, e.g. 'ENG'; admins can rename it.", {
      required: true,
    }),
    field('name', 'string', 'Project name.', { required: true }),
    field('description', 'string', 'Project description as plain text.'),
    reference('lead_cdm_id', 'cdm.work.user', 'Project lead (cdm.work.user).'),
    field('project_type', 'string', "Project type, e.g. 'software', 'service_desk', 'business'."),
    field('category', 'string', 'Project category name.'),
    field('is_private', 'boolean', 'Whether the project is private.'),
    field('url', 'string', 'Browse URL of the project.'),
    field('archived_at', 'timestamp', 'When the project was archived in the source.'),
    field('created_at', 'timestamp', 'When the project was created in the source.'),
    field('updated_at', 'timestamp', 'When the project last changed in the source.'),
    field('deleted_at', 'timestamp', 'When the project was deleted in the source (soft delete).'),
  ]),
  indexes: [
    {
      suffix: 'key_idx',
      method: 'btree',
      keys: [{ column: 'source_system' }, { column: 'source_instance' }, { column: 'source_project_key' }],
    },
    { suffix: 'updated_idx', method: 'btree', keys: [{ column: 'updated_at' }] },
  ],
});
