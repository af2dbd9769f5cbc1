import type { CatalogChange } from '../catalog/index.js';
import type { Plan } from '../postgres/index.js';
import type { PlanReport } from './types.js';

/** The plan in the shape status, CLI output and events use. Pure. */
export function planReport(plan: Plan, catalog: ReadonlyMap<string, CatalogChange>): PlanReport {
  return {
    hash: plan.hash,
    steps: plan.steps.map((s) => ({
      kind: s.kind,
      target: s.target,
      description: s.description,
      sql: s.statements.map((st) => st.sql),
      hazards: [...new Set(s.statements.flatMap((st) => st.hazards))],
    })),
    findings: plan.findings.map((f) => ({ table: f.table, kind: f.kind, message: f.message })),
    catalogChanges: [...catalog].map(([datasetId, change]) => ({ datasetId, change })),
  };
}
