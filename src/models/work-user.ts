import { field, sourceFields, withPlumbing } from './fields.js';
import type { ModelSpec } from './types.js';

export const WORK_USER: ModelSpec = Object.freeze<ModelSpec>({
  id: 'cdm.work.user',
  version: '1.0.0',
  displayName: 'Work user',
  description: 'An account in a work-tracking system (person, app or customer).',
  fields: withPlumbing([
    ...sourceFields('user', 'Account', true),
    field('display_name', 'string', 'Display name (may be an alias under privacy settings).'),
    field('email', 'string', 'E-mail address; often hidden by privacy settings. Personal data.'),
    field('account_type', 'string', "Account type, e.g. 'atlassian', 'app', 'customer'."),
    field('is_active', 'boolean', 'Whether the account is active.'),
    field('time_zone', 'string', 'IANA time zone of the account.'),
    field('locale', 'string', 'Locale of the account.'),
    field('avatar_url', 'string', 'Avatar image URL.'),
    field('created_at', 'timestamp', 'When the account was created in the source.'),
    field('updated_at', 'timestamp', 'When the account last changed in the source.'),
    field('deleted_at', 'timestamp', 'When the account was deleted in the source (soft delete).'),
  ]),
  indexes: [
    {
      suffix: 'email_idx',
      method: 'btree',
      keys: [{ expression: 'lower(email)', columns: ['email'] }],
      where: 'email IS NOT NULL',
    },
    { suffix: 'updated_idx', method: 'btree', keys: [{ column: 'updated_at' }] },
  ],
});
