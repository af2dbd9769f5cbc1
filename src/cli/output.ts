/** Where the CLI writes: results to stdout, progress and diagnostics to stderr. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/**
 * Resolves once everything written so far has reached stdout and stderr. Writes to a pipe are
 * asynchronous, and `bin.ts` calls `process.exit`, which would otherwise cut a long report
 * (or a large `-o json`) off after the first 64 KiB or so.
 */
export async function flushProcessOutput(): Promise<void> {
  const flushed = (stream: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => {
      stream.write('', () => resolve());
    });
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
}

export type Format = 'text' | 'json';
