import { describe, expect, it } from 'vitest';
import { type Batch, type PrepareRow, prepareBatches } from './batches.js';
import type { EncodedRow } from './encode-row.js';
import { type PreparedRow, prepareInline } from './prepared-rows.js';

const prepare: PrepareRow = (raw, index) => {
  // `at` stands for the canonical `updated_at` an encoder gives (fixed-width UTC), or null.
  const row = raw as { id?: string; v?: number; size?: number; at?: string | null };
  if (!row.id) return { index, cdmId: undefined, errors: [{ field: 'cdm_id', reason: 'is required' }] };
  const chunk = Buffer.alloc(0);
  return {
    index,
    cdmId: row.id,
    hash: `h${row.v ?? 0}`,
    version: row.at ?? null,
    chunk,
    start: 0,
    end: row.size ?? 100,
  } satisfies EncodedRow;
};

async function collect(input: Iterable<unknown> | AsyncIterable<unknown>, maxRows = 3, maxBytes = 1 << 20) {
  const batches: Batch[] = [];
  const limits = { maxRows, maxBytes, yieldEvery: 2 };
  for await (const b of prepareBatches(prepareInline(input, prepare, limits), limits)) batches.push(b);
  return batches;
}

describe('prepareBatches', () => {
  it('sorts each batch by cdm_id and keeps the last occurrence of a duplicate', async () => {
    const [batch] = await collect([{ id: 'b', v: 1 }, { id: 'a' }, { id: 'b', v: 2 }], 10);
    expect(batch!.rows.map((r) => [r.cdmId, r.index])).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(batch!.superseded).toBe(1);
    expect(batch!.received).toBe(3);
  });

  it('keeps the duplicate with the newest updated_at, not the last one', async () => {
    const [batch] = await collect(
      [
        { id: 'a', v: 9, at: '2026-01-09T00:00:00.000000Z' },
        { id: 'b' },
        { id: 'a', v: 1, at: '2026-01-01T00:00:00.000000Z' },
      ],
      10,
    );
    expect(batch!.rows.map((r) => [r.cdmId, r.hash])).toEqual([
      ['a', 'h9'],
      ['b', 'h0'],
    ]);
    expect(batch!.superseded).toBe(1);
    expect(batch!.received).toBe(3);
  });

  it('lets the later duplicate win a tie of updated_at', async () => {
    const at = '2026-01-05T00:00:00.000000Z';
    const [batch] = await collect(
      [
        { id: 'a', v: 1, at },
        { id: 'a', v: 2, at },
      ],
      10,
    );
    expect(batch!.rows.map((r) => r.hash)).toEqual(['h2']);
    expect(batch!.superseded).toBe(1);
  });

  it('ranks a null updated_at below any timestamp; between nulls the later wins', async () => {
    const at = '2026-01-05T00:00:00.000000Z';
    const [batch] = await collect(
      [
        { id: 'a', v: 1, at: null },
        { id: 'a', v: 2, at },
        { id: 'a', v: 3, at: null },
        { id: 'b', v: 1, at: null },
        { id: 'b', v: 2, at: null },
      ],
      10,
    );
    expect(batch!.rows.map((r) => [r.cdmId, r.hash])).toEqual([
      ['a', 'h2'],
      ['b', 'h2'],
    ]);
    expect(batch!.superseded).toBe(3);
    expect(batch!.received).toBe(5);
  });

  it('cuts batches by distinct rows and by bytes, and records input positions', async () => {
    const rows = ['e', 'd', 'c', 'b', 'a'].map((id) => ({ id }));
    const byRows = await collect(rows, 2);
    expect(byRows.map((b) => [b.firstIndex, b.lastIndex, b.rows.map((r) => r.cdmId).join('')])).toEqual([
      [0, 1, 'de'],
      [2, 3, 'bc'],
      [4, 4, 'a'],
    ]);
    const byBytes = await collect(
      rows.map((r) => ({ ...r, size: 600 })),
      100,
      1000,
    );
    expect(byBytes.map((b) => b.rows.length)).toEqual([2, 2, 1]);
  });

  it('keeps invalid rows with their stream index next to the valid ones', async () => {
    const [batch] = await collect([{ id: 'a' }, {}, { id: 'b' }], 10);
    expect(batch!.rejected.map((r) => r.index)).toEqual([1]);
    expect(batch!.rows).toHaveLength(2);
  });

  it('pulls input lazily: no more than one batch ahead of the consumer', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield { id: `k${i}` };
      }
    }
    const limits = { maxRows: 10, maxBytes: 1 << 20, yieldEvery: 4 };
    const iterator = prepareBatches(prepareInline(source(), prepare, limits), limits);
    await iterator.next();
    expect(pulled).toBe(10);
    await iterator.next();
    expect(pulled).toBe(20);
    await iterator.return(undefined);
  });

  it('takes positions from the prepared rows, whatever prepared them', async () => {
    async function* prepared(): AsyncGenerator<PreparedRow> {
      const ids = ['a', 'a', 'b', 'c', 'c'];
      for (let index = 0; index < ids.length; index++)
        yield prepare({ id: ids[index] }, index, undefined as never);
    }
    const batches = await collectAll(
      prepareBatches(prepared(), { maxRows: 2, maxBytes: 1 << 20, yieldEvery: 1 }),
    );
    expect(batches.map((b) => [b.firstIndex, b.lastIndex, b.received, b.superseded])).toEqual([
      [0, 2, 3, 1],
      [3, 4, 2, 1],
    ]);
  });
});

async function collectAll(batches: AsyncIterable<Batch>): Promise<Batch[]> {
  const all: Batch[] = [];
  for await (const b of batches) all.push(b);
  return all;
}
