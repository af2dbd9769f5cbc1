import { envelope, provisionEntry, toJson } from '../envelope.js';
import { reportInputErrors } from '../input-report.js';
import type { Format, Output } from '../output.js';
import type { Inputs } from '../provision-inputs.js';

/** `cdm-sink validate -f PATH…`: offline checks; exit 0 valid, 1 invalid or no provision. */
export function validateCommand(inputs: Inputs, format: Format, io: Output): number {
  const ok = inputs.errors.length === 0;
  reportInputErrors(inputs.errors, io);
  if (format === 'json') {
    io.out(toJson(envelope('validate', inputs.provisions.map(provisionEntry), inputs.errors)));
    return ok ? 0 : 1;
  }
  for (const p of inputs.provisions) {
    if (p.errors.length === 0) io.out(`ok      ${p.id} (${p.source.file}, document ${p.source.index})`);
  }
  io.out(ok ? `${inputs.provisions.length} provision(s) valid` : `${inputs.errors.length} error(s)`);
  return ok ? 0 : 1;
}
