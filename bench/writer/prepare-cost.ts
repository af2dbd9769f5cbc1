/**
 * Node CPU of the writer's per-row preparation (validate, encode, hash) without a database, next to the
 * cost of generating the benchmark's rows, so the two can be told apart. Run under `node --cpu-prof` to
 * see where the time goes:
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/writer/prepare-cost.ts
 *
 * Prints one JSON line: `{ rows, generateUsPerRow, prepareUsPerRow }` (medians of `PREPARE_ROUNDS`).
 */
import { defaultRegistry } from '../../src/models/index.js';
import { LineBuffer } from '../../src/writer/line-buffer.js';
import { rowPreparer } from '../../src/writer/prepare-row.js';
import { workItemRow } from './rows.js';

const count = Number(process.env.PREPARE_ROWS ?? 200_000);
const rounds = Number(process.env.PREPARE_ROUNDS ?? 3);
const prepare = rowPreparer(defaultRegistry.get('cdm.work.item'));

function cpuMicros(run: () => void): number {
  const before = process.cpuUsage();
  run();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

// Rows are generated and prepared in slices, as a stream would: the prepare figure then holds nothing
// but preparation, and the rows die young as they do in a real write.
const SLICE = 1000;
function round(): { generate: number; prepare: number } {
  let generate = 0;
  let prepared = 0;
  let lines = new LineBuffer();
  for (let from = 0; from < count; from += SLICE) {
    let rows: ReturnType<typeof workItemRow>[] = [];
    generate += cpuMicros(() => {
      rows = Array.from({ length: SLICE }, (_, i) => workItemRow(from + i));
    });
    if (from % 5000 === 0) lines = new LineBuffer();
    prepared += cpuMicros(() => {
      for (let i = 0; i < SLICE; i++) prepare(rows[i], from + i, lines);
    });
  }
  return { generate: generate / count, prepare: prepared / count };
}
const runs = Array.from({ length: rounds }, round);
const round2 = (n: number) => Math.round(n * 100) / 100;
process.stdout.write(
  `${JSON.stringify({ rows: count, generateUsPerRow: round2(median(runs.map((r) => r.generate))), prepareUsPerRow: round2(median(runs.map((r) => r.prepare))) })}\n`,
);
