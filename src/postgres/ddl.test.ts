import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support/database.js';
import { provisionTables } from '../../test/support/provision.js';
import { CDM_WORK_MODELS } from '../models/index.js';

describe('DDL generators', () => {
  it('create all five tables that Postgres accepts', async () => {
    const db = await createTestDatabase();
    try {
      await provisionTables(
        db.pool,
        { schema: 'cdm_work', tablePrefix: 'cdm_', sinkId: 'ns/x' },
        CDM_WORK_MODELS,
      );
      const { rows } = await db.pool.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'cdm_work' ORDER BY 1",
      );
      expect(rows.map((r) => r.table_name)).toEqual([
        'cdm_work_comment',
        'cdm_work_item',
        'cdm_work_project',
        'cdm_work_user',
        'cdm_work_worklog',
      ]);
    } finally {
      await db.drop();
    }
  });
});
