import { findCondition } from '../../api/conditions.js';
import type { Format, Output } from '../output.js';
import { formatError, type Inputs } from '../provision-inputs.js';
import { renderPlan } from '../render.js';
import { type RunOptions, reconcileAll } from './reconcile-all.js';

/** `cdm-sink plan`: what apply would do, changing nothing. Exit 0; 1 when a manifest is invalid. */
export async function planCommand(
  inputs: Inputs,
  options: Omit<RunOptions, 'mode'>,
  format: Format,
  io: Output,
): Promise<number> {
  if (inputs.errors.length > 0) {
    if (format === 'json') io.out(JSON.stringify({ valid: false, errors: inputs.errors }, null, 2));
    else for (const e of inputs.errors) io.out(`invalid ${formatError(e)}`);
    return 1;
  }
  const { results } = await reconcileAll(inputs, { ...options, mode: 'plan' });
  if (format === 'json') {
    io.out(
      JSON.stringify(
        results.map((r) => ({
          provision: r.input.id,
          file: r.input.source.file,
          database: r.database,
          plan: r.outcome.plan ?? null,
          error: r.outcome.error
            ? {
                reason: r.outcome.error.reason,
                message: findCondition(r.outcome.status.conditions, 'Ready')?.message,
              }
            : null,
        })),
        null,
        2,
      ),
    );
  } else {
    for (const r of results) {
      if (r.outcome.plan)
        io.out(renderPlan(`CdmSinkProvision ${r.input.id} (${r.input.source.file})`, r.outcome.plan));
      else
        io.out(
          `CdmSinkProvision ${r.input.id}: cannot plan: ${findCondition(r.outcome.status.conditions, 'Ready')?.message ?? 'unknown error'}`,
        );
    }
  }
  return results.every((r) => r.outcome.plan) ? 0 : 1;
}
