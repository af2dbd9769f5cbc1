import type { WriteProgress } from 'cdm-sink-operator/writer';

/**
 * Progress lines for a person watching a long run, fed by the writer's `onProgress`. Only `cdm-unit.ts`
 * uses this, and only when stderr is a terminal: piped output (CI, tests, log collectors) stays quiet.
 */

/** `cdm.work.item: 12,345 rows done (4,321 rows/s)`. */
export function formatProgress(progress: WriteProgress): string {
  const count = (n: number) => n.toLocaleString('en-US');
  return `${progress.modelId}: ${count(progress.rowsDone)} rows done (${count(progress.rowsPerSecond)} rows/s)`;
}

export interface ProgressLoggerOptions {
  /** Least time between two lines (default 3 s): the writer reports every batch, which can be often. */
  readonly intervalMs?: number;
  /** Milliseconds clock, for tests. */
  readonly now?: () => number;
}

/** An `onProgress` callback that logs at most one line per `intervalMs`, the first one after `intervalMs`. */
export function progressLogger(
  log: (line: string) => void,
  options: ProgressLoggerOptions = {},
): (progress: WriteProgress) => void {
  const intervalMs = options.intervalMs ?? 3000;
  const now = options.now ?? Date.now;
  let last = now();
  return (progress) => {
    const time = now();
    if (time - last < intervalMs) return;
    last = time;
    log(formatProgress(progress));
  };
}
