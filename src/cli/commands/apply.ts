import type { Format, Output } from '../output.js';
import { formatError, type Inputs } from '../provision-inputs.js';
import { renderPlan, renderStatus } from '../render.js';
import { type RunOptions, reconcileAll } from './reconcile-all.js';

/** `cdm-sink apply`: the controller's reconcile, run once per provision. Exit 0 when all are Ready. */
export async function applyCommand(
  inputs: Inputs,
  options: Omit<RunOptions, 'mode'>,
  format: Format,
  io: Output,
): Promise<number> {
  // Apply goes ahead with what could be read, like `kubectl apply`, and exits 1; stdout keeps its
  // shape for -o json.
  for (const e of inputs.loadErrors) io.err(`invalid ${formatError(e)}`);
  const { results, loadErrors } = await reconcileAll(inputs, { ...options, mode: 'apply' });
  const allReady = loadErrors === 0 && results.length > 0 && results.every((r) => r.outcome.ready);
  if (format === 'json') {
    io.out(
      JSON.stringify(
        results.map((r) => ({
          provision: r.input.id,
          file: r.input.source.file,
          ready: r.outcome.ready,
          statementsApplied: r.outcome.statementsApplied,
          database: r.database,
          status: r.outcome.status,
          plan: r.outcome.plan ?? null,
        })),
        null,
        2,
      ),
    );
    return allReady ? 0 : 1;
  }
  for (const r of results) {
    for (const e of r.input.errors)
      io.err(
        `invalid ${formatError({ file: r.input.source.file, document: r.input.source.index, path: e.path, message: e.message })}`,
      );
    if (r.outcome.plan && r.outcome.statementsApplied > 0)
      io.out(renderPlan(`Applied to ${r.input.id}:`, r.outcome.plan, { sql: false }));
  }
  if (results.length === 0)
    io.out(
      loadErrors > 0
        ? 'no CdmSinkProvision could be read from the given manifests'
        : 'no CdmSinkProvision found in the given manifests',
    );
  else
    io.out(
      renderStatus(
        results.map((r) => ({
          id: r.input.id,
          status: r.outcome.status,
          statements: r.outcome.statementsApplied,
        })),
      ),
    );
  return allReady ? 0 : 1;
}
