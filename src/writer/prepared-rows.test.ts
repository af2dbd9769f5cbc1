import { afterAll, describe, expect, it } from 'vitest';
import { workItemRow } from '../../bench/writer/rows.js';
import { defaultRegistry } from '../models/index.js';
import type { PrepareRow } from './batches.js';
import type { LineBuffer } from './line-buffer.js';
import { PreparePool } from './prepare-pool.js';
import { rowPreparer } from './prepare-row.js';
import { type PreparedRow, preparedRows, prepareInline } from './prepared-rows.js';

const prepare = rowPreparer(defaultRegistry.get('cdm.work.item'));

/** A stand-in preparer that records the `LineBuffer` each row was written into. */
function recording(buffers: LineBuffer[]): PrepareRow {
  return (raw, index, lines) => {
    buffers.push(lines);
    const { chunk, start } = lines.reserve(8);
    const end = start + chunk.write(String(index), start);
    lines.commit(end);
    return { index, cdmId: String(raw), version: null, hash: 'h', chunk, start, end };
  };
}

async function collect(rows: AsyncIterable<PreparedRow>): Promise<PreparedRow[]> {
  const all: PreparedRow[] = [];
  for await (const row of rows) all.push(row);
  return all;
}

describe('prepareInline', () => {
  it('prepares rows in input order, each with its position', async () => {
    const rows = await collect(prepareInline(['a', 'b', 'c'], recording([])));
    expect(rows.map((r) => [r.index, r.cdmId])).toEqual([
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
    ]);
  });

  it('gives the event loop a turn every yieldEvery rows', async () => {
    let seen = 0;
    let seenAtTurn: number | undefined;
    setImmediate(() => {
      seenAtTurn = seen;
    });
    for await (const _ of prepareInline(['a', 'b', 'c', 'd', 'e', 'f'], recording([]), { yieldEvery: 4 }))
      seen++;
    expect(seenAtTurn).toBe(4);
  });

  it('starts a fresh LineBuffer every regionRows rows', async () => {
    const buffers: LineBuffer[] = [];
    await collect(prepareInline(['a', 'b', 'c', 'd', 'e'], recording(buffers), { regionRows: 2 }));
    expect(new Set(buffers).size).toBe(3);
    expect(buffers[0]).toBe(buffers[1]);
    expect(buffers[1]).not.toBe(buffers[2]);
    expect(buffers[3]).not.toBe(buffers[4]);
  });
});

describe('preparedRows', () => {
  const pool = new PreparePool({ modelId: 'cdm.work.item', threads: 1, sliceRows: 32 });
  afterAll(() => pool.close());

  it('prepares everything inline without a pool', async () => {
    const rows = await collect(preparedRows(['a', 'b'], { prepare: recording([]) }));
    expect(rows.map((r) => r.cdmId)).toEqual(['a', 'b']);
  });

  it('never starts the pool for a write of at most inlineRows rows', async () => {
    const input = Array.from({ length: 50 }, (_, n) => workItemRow(n));
    const rows = await collect(preparedRows(input, { prepare, pool, inlineRows: 50 }));
    expect(rows).toHaveLength(50);
    expect(pool.started).toBe(false);
    expect(pool.counts).toEqual({ sent: 0, here: 0 });
  });

  it('hands the rows after inlineRows to the pool, with the same results', async () => {
    const input = () => Array.from({ length: 300 }, (_, n) => workItemRow(n));
    const summary = (r: PreparedRow) =>
      'errors' in r ? r.errors : [r.index, r.hash, r.chunk.subarray(r.start, r.end).toString()];
    const pooled = await collect(preparedRows(input(), { prepare, pool, inlineRows: 100 }));
    const inline = await collect(prepareInline(input(), prepare));
    expect(pooled.map(summary)).toEqual(inline.map(summary));
    expect(pool.started).toBe(true);
    expect(pool.counts.sent + pool.counts.here).toBe(200);
  });

  it('reads one row per result while preparing inline', async () => {
    let pulled = 0;
    function* source(): Generator<unknown> {
      for (let n = 0; n < 10; n++) {
        pulled++;
        yield workItemRow(n);
      }
    }
    const rows = preparedRows(source(), { prepare, pool, inlineRows: 100 });
    await rows.next();
    await rows.next();
    expect(pulled).toBe(2);
    await rows.return(undefined);
  });
});
