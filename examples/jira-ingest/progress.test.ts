import { describe, expect, it } from 'vitest';
import { formatProgress, progressLogger } from './progress.js';

describe('formatProgress', () => {
  it('names the model and groups the digits of both numbers', () => {
    expect(formatProgress({ modelId: 'cdm.work.item', rowsDone: 1234567, rowsPerSecond: 45210 })).toBe(
      'cdm.work.item: 1,234,567 rows done (45,210 rows/s)',
    );
    expect(formatProgress({ modelId: 'cdm.work.user', rowsDone: 0, rowsPerSecond: 0 })).toBe(
      'cdm.work.user: 0 rows done (0 rows/s)',
    );
  });
});

describe('progressLogger', () => {
  it('logs at most one line per interval, on a clock it is given', () => {
    let time = 1000;
    const lines: string[] = [];
    const onProgress = progressLogger((line) => lines.push(line), { intervalMs: 3000, now: () => time });
    const report = (rowsDone: number) =>
      onProgress({ modelId: 'cdm.work.item', rowsDone, rowsPerSecond: 10 });
    time = 2000;
    report(5000);
    time = 4000;
    report(10000);
    time = 6999;
    report(15000);
    time = 7000;
    report(20000);
    expect(lines).toEqual([
      'cdm.work.item: 10,000 rows done (10 rows/s)',
      'cdm.work.item: 20,000 rows done (10 rows/s)',
    ]);
  });
});
