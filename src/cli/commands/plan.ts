import { envelope, planEntry, runErrors, runFailure, toJson } from '../envelope.js';
import type { Format, Output } from '../output.js';
import type { Inputs } from '../provision-inputs.js';
import { renderPlan } from '../render.js';
import { type RunOptions, type RunResult, reconcileAll } from './reconcile-all.js';

/** A provision's plan; a failure is part of the result (stdout), not a diagnostic. */
function renderRun(run: RunResult): string {
  const title = `CdmSinkProvision ${run.input.id} (${run.input.source.file})`;
  const failure = runFailure(run, 'plan');
  const why = failure ? `${failure.reason}: ${failure.message}` : '';
  const plan = run.outcome.plan;
  if (!plan) return `${title}: cannot plan: ${why}`;
  return failure ? `${renderPlan(title, plan)}\n  Cannot apply: ${why}` : renderPlan(title, plan);
}

/**
 * `cdm-sink plan`: what apply would do, changing nothing. Only called with valid input. Exit 0 when
 * every provision could be planned, 1 when one could not or its plan cannot be applied (a conflict).
 */
export async function planCommand(
  inputs: Inputs,
  options: Omit<RunOptions, 'mode'>,
  format: Format,
  io: Output,
): Promise<number> {
  const runs = await reconcileAll(inputs, { ...options, mode: 'plan' });
  const errors = runErrors(runs, 'plan');
  if (format === 'json')
    io.out(
      toJson(
        envelope(
          'plan',
          runs.map((r) => planEntry(r.input, r)),
          errors,
        ),
      ),
    );
  else for (const run of runs) io.out(renderRun(run));
  return errors.length === 0 ? 0 : 1;
}
