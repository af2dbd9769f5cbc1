#!/usr/bin/env node
// The `cdm-sink` executable (package.json `bin` → dist/cli/bin.js). Only `main` is loaded up front; each
// command loads what it needs, so `--version` and `validate` start fast.
import { main } from './main.js';
import { flushProcessOutput } from './output.js';

let code: number;
try {
  code = await main(process.argv.slice(2), process.env);
} catch (error) {
  // A bug, not a reported failure: Node's own report would print every property of the error, and a
  // URL parse error carries its input, password included.
  const { redactSecrets } = await import('../errors/redact.js');
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`cdm-sink: internal error (please report it): ${redactSecrets(text)}\n`);
  code = 70;
}
// Everything written must reach a pipe before the exit below, which would otherwise cut it off.
await flushProcessOutput();
// Explicit: an idle pool's timers, or a signal hook of the embedded Postgres, would otherwise decide
// when and how the process ends.
process.exit(code);
