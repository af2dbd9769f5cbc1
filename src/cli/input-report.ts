import { applyEntry, type CliError, type CommandName, envelope, planEntry, toJson } from './envelope.js';
import type { Format, Output } from './output.js';
import type { Inputs } from './provision-inputs.js';

/** One input error as every command prints it: `invalid FILE (document N): PATH: message`. */
export function formatError(e: CliError): string {
  if (e.file === null) return `error: ${e.message}`;
  return `invalid ${e.file}${e.document ? ` (document ${e.document})` : ''}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

/**
 * Input errors are diagnostics: stderr, in every format (with `-o json` they are in the envelope on
 * stdout too), so a CI log shows why a run stopped whatever was asked of stdout.
 */
export function reportInputErrors(errors: readonly CliError[], io: Output): void {
  for (const e of errors) io.err(formatError(e));
}

/** `plan` and `apply` with input errors: report them as `validate` does and stop, exit 1. */
export function rejectInput(
  command: Exclude<CommandName, 'validate'>,
  inputs: Inputs,
  format: Format,
  io: Output,
): number {
  reportInputErrors(inputs.errors, io);
  io.err(
    `${inputs.errors.length} error(s) in the input: nothing was ${command === 'plan' ? 'planned' : 'applied'}`,
  );
  if (format === 'json')
    io.out(
      toJson(
        envelope(
          command,
          inputs.provisions.map((p) => (command === 'plan' ? planEntry(p) : applyEntry(p))),
          inputs.errors,
        ),
      ),
    );
  return 1;
}
