import { field, reference, sourceFields, withPlumbing } from './fields.js';
import type { ModelSpec } from './types.js';

export const WORK_COMMENT: ModelSpec = Object.freeze<ModelSpec>({
  id: 'cdm.work.comment',
  version: '1.0.0',
  displayName: 'Work comment',
  description: 'A comment on a work item.',
  fields: withPlumbing([
    ...sourceFields('comment', 'Comment'),
    reference('item_cdm_id', 'cdm.work.item', 'Item the comment belongs to (cdm.work.item).', true),
    reference('project_cdm_id', 'cdm.work.project', "Project of the comment's item, denormalised."),
    reference('author_cdm_id', 'cdm.work.user', 'Author (cdm.work.user).'),
    reference('update_author_cdm_id', 'cdm.work.user', 'Last editor (cdm.work.user).'),
    field('body', 'string', 'Comment body as plain text or markdown.'),
    field('is_public', 'boolean', 'Whether the comment is visible to everyone who can see the item.'),
    field('visibility', 'string', "Visibility restriction, e.g. 'role:Developers'."),
    field('created_at', 'timestamp', 'When the comment was created in the source.', { required: true }),
    field('updated_at', 'timestamp', 'When the comment last changed in the source.', { required: true }),
    field('deleted_at', 'timestamp', 'When the comment was deleted in the source (soft delete).'),
  ]),
  indexes: [
    { suffix: 'item_idx', method: 'btree', keys: [{ column: 'item_cdm_id' }, { column: 'created_at' }] },
    { suffix: 'author_idx', method: 'btree', keys: [{ column: 'author_cdm_id' }, { column: 'created_at' }] },
    { suffix: 'updated_idx', method: 'btree', keys: [{ column: 'updated_at' }] },
  ],
});
