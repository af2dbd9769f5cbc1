import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { percentile, printTable } from './support.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'dist/cli/bin.js');
const RUNS = 15;

export interface CliStartupResult {
  runs: number;
  /** Median wall time of `node -e ""`: the floor every command pays. */
  nodeBaselineMs: number;
  versionMs: { p50: number; max: number };
  validateExamplesMs: { p50: number; max: number };
}

/** Wall time of one run of `node args…` to completion, in ms. */
function timed(args: readonly string[]): number {
  const started = performance.now();
  execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
  return performance.now() - started;
}

function sample(args: readonly string[]): { p50: number; max: number } {
  timed(args); // warms the file system cache, as every later start finds it
  const times = Array.from({ length: RUNS }, () => timed(args)).sort((a, b) => a - b);
  return { p50: Math.round(percentile(times, 50)), max: Math.round(times.at(-1)!) };
}

/**
 * How fast the installed CLI starts, as CI pipelines call it: the compiled dist/ with plain node
 * (`npm run bench` builds it first).
 */
export function runCliStartupBench(): CliStartupResult {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
  return {
    runs: RUNS,
    nodeBaselineMs: sample(['-e', '']).p50,
    versionMs: sample([BIN, '--version']),
    validateExamplesMs: sample([BIN, 'validate', '-f', 'manifests/examples/']),
  };
}

export function printCliStartupBench(result: CliStartupResult): void {
  printTable('cli startup (compiled dist/, plain node)', [
    { measure: 'node -e "" p50 (ms)', value: result.nodeBaselineMs, target: '-' },
    { measure: 'cdm-sink --version p50 (ms)', value: result.versionMs.p50, target: '< 300' },
    {
      measure: 'cdm-sink validate -f manifests/examples/ p50 (ms)',
      value: result.validateExamplesMs.p50,
      target: '< 300',
    },
  ]);
}
