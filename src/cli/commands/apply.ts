import { applyEntry, envelope, runErrors, toJson } from '../envelope.js';
import type { Format, Output } from '../output.js';
import type { Inputs } from '../provision-inputs.js';
import { renderPlan, renderStatus } from '../render.js';
import { type RunOptions, reconcileAll } from './reconcile-all.js';

/**
 * `cdm-sink apply`: the controller's reconcile, run once per provision. Only called with valid input.
 * Exit 0 when all are Ready.
 */
export async function applyCommand(
  inputs: Inputs,
  options: Omit<RunOptions, 'mode'>,
  format: Format,
  io: Output,
): Promise<number> {
  const runs = await reconcileAll(inputs, { ...options, mode: 'apply' });
  const errors = runErrors(runs, 'apply');
  if (format === 'json') {
    io.out(
      toJson(
        envelope(
          'apply',
          runs.map((r) => applyEntry(r.input, r)),
          errors,
        ),
      ),
    );
    return errors.length === 0 ? 0 : 1;
  }
  for (const r of runs) {
    if (r.outcome.plan && r.outcome.statementsApplied > 0)
      io.out(renderPlan(`Applied to ${r.input.id}:`, r.outcome.plan, { sql: false }));
  }
  io.out(
    renderStatus(
      runs.map((r) => ({
        id: r.input.id,
        status: r.outcome.status,
        statements: r.outcome.statementsApplied,
      })),
    ),
  );
  return errors.length === 0 ? 0 : 1;
}
