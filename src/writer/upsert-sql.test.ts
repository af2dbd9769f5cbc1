import { describe, expect, it } from 'vitest';
import { defaultRegistry } from '../models/index.js';
import { lineColumns } from './encode-row.js';
import { compileWriteStatements } from './upsert-sql.js';

const fields = lineColumns(defaultRegistry.get('cdm.work.item'));
const sql = compileWriteStatements({ schema: 'cdm_work', name: 'cdm_work_item' }, fields, 'updated_at');

describe('compileWriteStatements', () => {
  it('takes one array parameter per column, far below the 65,535 bind-parameter limit', () => {
    const params = sql.upsert.match(/\$\d+/g) ?? [];
    expect(new Set(params).size).toBe(fields.length + 1);
    expect(sql.upsert).toContain(`FROM unnest($1::text[]`);
    expect(sql.upsert).toContain('u."labels"::text[]');
  });

  it('guards the update: skip identical rows, never let an older version win, move synced_at only on change', () => {
    expect(sql.upsert).toContain('ON CONFLICT ("cdm_id") DO UPDATE SET');
    expect(sql.upsert).toMatch(
      /WHERE \(t\."properties", t\."source_system", .*, t\."_row_hash"\) IS DISTINCT FROM \(EXCLUDED\."properties"/,
    );
    expect(sql.upsert).toContain('AND (t."updated_at" IS NULL OR t."updated_at" <= EXCLUDED."updated_at")');
    expect(sql.upsert).toMatch(
      /"synced_at" = CASE WHEN \(t\."properties".*\) IS DISTINCT FROM .* THEN now\(\) ELSE t\."synced_at" END/,
    );
    expect(sql.upsert).not.toMatch(/SET[^\n]*"cdm_id" =/);
  });

  it('returns the key of each row it wrote, so the rows its guard kept can be told apart', () => {
    expect(sql.upsert).toMatch(/\nRETURNING t\."cdm_id" AS cdm_id, \(t\.xmax = 0\) AS inserted$/);
  });

  it('COPYs into the table itself, leaving synced_at to its default', () => {
    expect(sql.copy).toMatch(
      /^COPY "cdm_work"\."cdm_work_item" \("cdm_id", "properties", .*, "deleted_at", "_row_hash"\) FROM STDIN$/,
    );
    expect(sql.copy).not.toContain('synced_at');
  });

  it('looks stored rows up by key and returns the version in the canonical UTC form', () => {
    expect(sql.lookup).toContain(`WHERE t."cdm_id" = ANY($1::text[])`);
    expect(sql.lookup).toContain(
      `to_char(t."updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    );
  });

  it('quotes every identifier', () => {
    const odd = compileWriteStatements({ schema: 'we"ird', name: 't' }, fields, undefined);
    expect(odd.copy).toContain('"we""ird"."t"');
    expect(odd.upsert).not.toContain('t."updated_at" <=');
  });
});
