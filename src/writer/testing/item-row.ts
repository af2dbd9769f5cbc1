import type { CdmWorkItemRow } from '../../models/row-types.generated.js';

/** A `cdm.work.item` row with only the fields a row must carry, for tests to spread and vary. */
export const MINIMAL_ITEM_ROW: CdmWorkItemRow = Object.freeze({
  cdm_id: 'jira:acme:item:1',
  project_cdm_id: 'jira:acme:project:1',
  issue_type: 'Bug',
  status: 'Open',
  status_category: 'todo',
  summary: 'It broke',
  created_at: '2024-05-01T10:00:00Z',
  updated_at: '2024-05-02T10:00:00+02:00',
});
