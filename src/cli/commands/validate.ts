import { envelope, provisionEntry, toJson } from '../envelope.js';
import { reportInputErrors } from '../input-report.js';
import type { Format, Output } from '../output.js';
import type { Inputs } from '../provision-inputs.js';

export interface ValidateOptions {
  /**
   * Input holding no CdmSinkProvision passes (with a note on stderr): a pull-request check hands over
   * every changed manifest, and a change without a provision is fine. Every other error still fails.
   */
  readonly allowNoProvisions?: boolean;
}

/** `cdm-sink validate -f PATH…`: offline checks; exit 0 valid, 1 invalid or no provision. */
export function validateCommand(
  inputs: Inputs,
  format: Format,
  io: Output,
  options: ValidateOptions = {},
): number {
  // NoProvisions is only ever raised alone (readInputs adds it when nothing else is wrong).
  const none = options.allowNoProvisions ? inputs.errors.find((e) => e.reason === 'NoProvisions') : undefined;
  const errors = none ? [] : inputs.errors;
  if (none) io.err(`note: ${none.message}`);
  const ok = errors.length === 0;
  reportInputErrors(errors, io);
  if (format === 'json') {
    io.out(toJson(envelope('validate', inputs.provisions.map(provisionEntry), errors)));
    return ok ? 0 : 1;
  }
  for (const p of inputs.provisions) {
    if (p.errors.length === 0) io.out(`ok      ${p.id} (${p.source.file}, document ${p.source.index})`);
  }
  io.out(ok ? `${inputs.provisions.length} provision(s) valid` : `${errors.length} error(s)`);
  return ok ? 0 : 1;
}
