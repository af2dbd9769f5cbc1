import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const REPO = path.resolve(import.meta.dirname, '../..');
// The sources through tsx (a dev tool), so a test never runs a stale build; the packaging test runs the
// compiled dist/ from an installed tarball.
const BIN = path.join(REPO, 'src/cli/bin.ts');
// Resolved here rather than by name: `--import tsx` resolves from the working directory, and several
// tests run the CLI in a temporary folder.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cdm-sink` as a subprocess, as a user would; `input` is written to its standard input. */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<CliResult> {
  const env = { ...process.env, CDM_SINK_DATABASE_URL: '', CDM_CATALOG_URL: '', ...options.env };
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', TSX, BIN, ...args],
      { cwd: options.cwd ?? REPO, env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
    // A CLI that stops reading early (a limit) closes the pipe; that is its answer, not a test failure.
    child.stdin?.on('error', () => {});
    // Always closed, so a CLI that reads standard input never waits for a test that gave none.
    child.stdin?.end(options.input);
  });
}
