import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { printReconcileBench, runReconcileBench } from './reconcile.js';

/**
 * `npm run bench`: every benchmark in one run, one after another (they share two cores with Postgres,
 * so running them side by side would only measure contention). Prints each table to stderr and one
 * JSON document to stdout; the same JSON goes to bench/results/latest.json.
 */
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);
const results: Record<string, unknown> = {
  machine: { node: process.version, cpus: (await import('node:os')).cpus().length },
};

if (wanted('cli')) {
  const { printCliStartupBench, runCliStartupBench } = await import('./cli-startup.js');
  const cli = runCliStartupBench();
  printCliStartupBench(cli);
  results.cliStartup = cli;
}
if (wanted('reconcile')) {
  const reconcile = await runReconcileBench();
  printReconcileBench(reconcile);
  results.reconcile = reconcile;
}
if (wanted('writer')) {
  const { formatWriterBench, runWriterBench } = await import('./writer.js');
  const writer = await runWriterBench({});
  process.stderr.write(`\n${formatWriterBench(writer)}\n`);
  results.writer = writer;
}
if (wanted('controller')) {
  const { printControllerBench, runControllerBench } = await import('./controller.js');
  const controller = await runControllerBench({});
  printControllerBench(controller);
  results.controller = controller;
}

const json = JSON.stringify(results, null, 2);
const dir = path.join(import.meta.dirname, 'results');
await mkdir(dir, { recursive: true });
await writeFile(path.join(dir, 'latest.json'), `${json}\n`);
process.stdout.write(`${json}\n`);
process.exit(0);
