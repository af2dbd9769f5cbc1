import type { Format, Output } from '../output.js';
import { formatError, type Inputs } from '../provision-inputs.js';

/** `cdm-sink validate -f PATH…`: offline checks; exit 0 valid, 1 invalid. */
export async function validateCommand(inputs: Inputs, format: Format, io: Output): Promise<number> {
  const valid = inputs.errors.length === 0;
  if (format === 'json') {
    io.out(
      JSON.stringify(
        {
          valid,
          provisions: inputs.provisions.map((p) => ({
            id: p.id,
            file: p.source.file,
            document: p.source.index,
            valid: p.errors.length === 0,
          })),
          errors: inputs.errors,
        },
        null,
        2,
      ),
    );
    return valid ? 0 : 1;
  }
  for (const p of inputs.provisions) {
    if (p.errors.length === 0) io.out(`ok      ${p.id} (${p.source.file}, document ${p.source.index})`);
  }
  for (const e of inputs.errors) io.out(`invalid ${formatError(e)}`);
  if (inputs.provisions.length === 0 && valid) io.out('no CdmSinkProvision found in the given manifests');
  io.out(valid ? `${inputs.provisions.length} provision(s) valid` : `${inputs.errors.length} error(s)`);
  return valid ? 0 : 1;
}
