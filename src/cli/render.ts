import { findCondition } from '../api/conditions.js';
import type { CdmSinkProvisionStatus } from '../api/types.js';
import type { PlanReport } from '../reconcile/index.js';

const SYMBOL: Readonly<Record<string, string>> = {
  createSchema: '+',
  createTable: '+',
  addColumn: '+',
  createIndex: '+',
  rebuildIndex: '±',
  comment: '~',
};

/** A `terraform plan`-like rendering: each step, its SQL, hazards, drift findings and catalog changes. */
export function renderPlan(
  title: string,
  plan: PlanReport,
  options: { sql: boolean } = { sql: true },
): string {
  const lines = [`${title}`];
  if (plan.steps.length === 0 && plan.catalogChanges.length === 0)
    lines.push('  No changes. The database matches the models.');
  for (const step of plan.steps) {
    lines.push(
      `  ${SYMBOL[step.kind] ?? '*'} ${step.description}${step.hazards.length ? `   [hazards: ${step.hazards.join(', ')}]` : ''}`,
    );
    if (options.sql)
      for (const sql of step.sql)
        lines.push(...sql.split('\n').map((l, i) => `      ${i === 0 ? '' : '  '}${l}`));
  }
  for (const change of plan.catalogChanges)
    lines.push(
      `  ${change.change === 'markDeleted' ? '-' : '+'} catalog: ${change.change} dataset ${change.datasetId}`,
    );
  for (const finding of plan.findings) lines.push(`  ! ${finding.kind}: ${finding.message}`);
  const statements = plan.steps.reduce((n, s) => n + s.sql.length, 0);
  lines.push(
    `  Plan: ${plan.steps.length} step(s), ${statements} statement(s), ${plan.catalogChanges.length} catalog change(s), ${plan.findings.length} finding(s).`,
  );
  return lines.join('\n');
}

function condition(status: CdmSinkProvisionStatus, type: string) {
  return findCondition(status.conditions, type);
}

/** A status table: one row per provision, then its tables. */
export function renderStatus(
  rows: ReadonlyArray<{ id: string; status: CdmSinkProvisionStatus; statements: number }>,
): string {
  const header = ['PROVISION', 'READY', 'REASON', 'STALLED', 'TABLES', 'STATEMENTS'];
  const body = rows.map(({ id, status, statements }) => {
    const ready = condition(status, 'Ready');
    const tables = status.tables ?? [];
    return [
      id,
      ready?.status ?? 'Unknown',
      ready?.reason ?? '',
      condition(status, 'Stalled')?.status ?? 'Unknown',
      `${tables.filter((t) => t.state === 'Ready').length}/${tables.length}`,
      String(statements),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const lines = [fmt(header), ...body.map(fmt)];
  for (const { id, status } of rows) {
    const ready = condition(status, 'Ready');
    if (ready?.message) lines.push(`  ${id}: ${ready.message}`);
    for (const t of status.tables ?? [])
      lines.push(`    ${t.state.padEnd(8)} ${t.table} (${t.model})${t.message ? ` — ${t.message}` : ''}`);
  }
  return lines.join('\n');
}
