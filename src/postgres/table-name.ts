/**
 * The table a model lives in, shared by the planner (`table-spec.ts`) and the writer; a module of its
 * own so the writer does not load table specs (DDL planning) just to name a table.
 */

/** `cdm.work.item` + prefix `cdm_` → `cdm_work_item` (DESIGN.md §3). */
export function tableName(modelId: string, tablePrefix: string): string {
  return tablePrefix + modelId.replace(/^cdm\./, '').replaceAll('.', '_');
}
