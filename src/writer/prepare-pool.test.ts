import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { workItemRow } from '../../bench/writer/rows.js';
import { defaultRegistry } from '../models/index.js';
import type { CdmModelId } from '../models/row-types.generated.js';
import { isRejected } from './batches.js';
import { PrepareWorkerError } from './errors.js';
import { cloneSize, PreparePool, type PreparePoolOptions } from './prepare-pool.js';
import { rowPreparer } from './prepare-row.js';
import type { PrepareWorkerFault } from './prepare-worker.js';
import { type PreparedRow, preparedRows, prepareInline } from './prepared-rows.js';

const prepare = rowPreparer(defaultRegistry.get('cdm.work.item'));
const pools: PreparePool[] = [];

function newPool(options: Partial<PreparePoolOptions> = {}): PreparePool {
  const pool = new PreparePool({ modelId: 'cdm.work.item', threads: 2, sliceRows: 64, ...options });
  pools.push(pool);
  return pool;
}

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

/** Everything a prepared row says, the line's bytes included, as one comparable string. */
function describeRow(row: PreparedRow): string {
  if (isRejected(row)) return JSON.stringify(['rejected', row.index, row.cdmId, row.errors]);
  const line = row.chunk.subarray(row.start, row.end).toString('base64');
  return JSON.stringify([row.index, row.cdmId, row.version, row.hash, line]);
}

interface Outcome {
  readonly rows: string[];
  readonly error?: string;
}

async function outcome(rows: AsyncIterable<PreparedRow>): Promise<Outcome> {
  const seen: string[] = [];
  try {
    for await (const row of rows) seen.push(describeRow(row));
  } catch (error) {
    return { rows: seen, error: String(error) };
  }
  return { rows: seen };
}

/** The same input prepared inline and through `pool` (every row offered to it). */
async function bothWays(input: () => Iterable<unknown> | AsyncIterable<unknown>, pool: PreparePool) {
  const inline = await outcome(prepareInline(input(), prepare));
  const pooled = await outcome(preparedRows(input(), { prepare, pool, inlineRows: 0 }));
  return { inline, pooled };
}

class Issue {
  constructor(readonly cdm_id: string) {}
}

function nested(depth: number): unknown {
  let value: unknown = { leaf: true };
  for (let i = 0; i < depth; i++) value = { inner: value };
  return value;
}

/** Rows that are not plain data, or not valid, or both; each built fresh for every run. */
const ODD_ROWS: readonly (() => unknown)[] = [
  () => Object.assign(new Issue('jira:x:item:1'), workItemRow(1)),
  () => ({ ...workItemRow(2), created_at: new Date(0) }),
  () => ({ ...workItemRow(3), properties: { at: new Date(0) } }),
  () => ({ ...workItemRow(4), properties: { map: new Map([['a', 1]]) } }),
  () => ({ ...workItemRow(5), properties: { issue: new Issue('x') } }),
  () => Object.assign(Object.create(null), workItemRow(6)),
  () => ({ ...workItemRow(7), properties: Object.assign(Object.create(null), { a: 1 }) }),
  () => ({ ...workItemRow(8), summary: () => 'a function' }),
  () => ({ ...workItemRow(9), properties: { f: () => 1 } }),
  () => ({ ...workItemRow(10), summary: Symbol('s') }),
  () => ({ ...workItemRow(11), [Symbol('key')]: 'ignored' }),
  () =>
    Object.defineProperty({ ...workItemRow(12) }, 'summary', {
      get: () => 'from a getter',
      enumerable: true,
    }),
  () => Object.defineProperty({ ...workItemRow(13) }, 'summary', { value: 'hidden', enumerable: false }),
  () => Object.defineProperty({ ...workItemRow(14) }, 'extra', { value: 'hidden', enumerable: false }),
  () => ({ ...workItemRow(15), description: undefined }),
  () => ({ ...workItemRow(16), extra: undefined }),
  () => ({ ...workItemRow(17), cdm_id: undefined }),
  () => ({ ...workItemRow(18), summary: 5, labels: 'x', status_category: 'closed' }),
  () => ({ ...workItemRow(19), summary: 'nul \u0000 inside', properties: { k: '\ud800' } }),
  () => ({ ...workItemRow(20), original_estimate_seconds: 10n, story_points: -0 }),
  () => ({ ...workItemRow(21), story_points: Number.NaN, time_spent_seconds: 2 ** 60 }),
  () => ({ ...workItemRow(22), description: 'huge '.repeat(600_000) }),
  () => ({
    ...workItemRow(23),
    properties: Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i])),
  }),
  () => ({ ...workItemRow(24), properties: nested(40) }),
  () => ({ ...workItemRow(25), properties: nested(100) }),
  () => ({ ...workItemRow(26), labels: Array.from({ length: 5000 }, (_, i) => `l${i}`) }),
  // biome-ignore lint/suspicious/noSparseArray: a hole is what this row is about
  () => ({ ...workItemRow(27), labels: ['a', , 'b'] }),
  () => new Proxy(workItemRow(28), {}),
  () => ({ ...workItemRow(29), properties: new Proxy({ a: 1 }, {}) }),
  () => null,
  () => 42,
  () => 'a string row',
  () => undefined,
  () => [workItemRow(30)],
  () => workItemRow(0),
  () => Object.freeze(workItemRow(31)),
  () => {
    const properties: Record<string, unknown> = { a: 1 };
    properties.self = properties;
    return { ...workItemRow(32), properties };
  },
  () => ({ ...workItemRow(33), properties: JSON.parse('{"__proto__": {"a": 1}, "b": 2}') }),
  () => JSON.parse(`{"cdm_id": "jira:x:item:34", "__proto__": {"a": 1}}`),
];

function* mixedRows(count: number): Generator<unknown> {
  let odd = 0;
  for (let n = 0; n < count; n++) {
    yield n % 23 === 5 ? ODD_ROWS[odd++ % ODD_ROWS.length]!() : workItemRow(n);
  }
}

describe('cloneSize', () => {
  it('accepts plain data and refuses what a clone would change or cannot clone', () => {
    expect(cloneSize(workItemRow(1))).toBeGreaterThan(1000);
    // biome-ignore lint/suspicious/noSparseArray: holes survive a clone
    for (const plain of [null, undefined, 1, -0, 10n, 'x', [1, , 3], { a: undefined }, []]) {
      expect(cloneSize(plain)).toBeDefined();
    }
    const hidden = Object.defineProperty({}, 'h', { value: 1, enumerable: false });
    const notPlain = [
      new Date(0),
      new Issue('x'),
      Object.create(null),
      { f: () => 1 },
      Symbol('s'),
      new Proxy({}, {}),
      hidden,
      { m: new Map() },
      Object.create(Array.prototype),
      nested(100),
    ];
    for (const value of notPlain) expect(cloneSize(value)).toBeUndefined();
  });

  it('never calls a proxy trap and reports a getter that throws as not plain', () => {
    let trapped = 0;
    const trap = <T>(value: T) => {
      trapped++;
      return value;
    };
    const proxy = new Proxy({}, { ownKeys: () => trap([]), getPrototypeOf: () => trap(null) });
    expect(cloneSize({ proxy })).toBeUndefined();
    expect(trapped).toBe(0);
    const throwing = Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    expect(cloneSize(throwing)).toBeUndefined();
  });
});

describe('PreparePool', () => {
  it('prepares every row exactly as inline preparation does, in input order', async () => {
    const pool = newPool();
    const { inline, pooled } = await bothWays(() => mixedRows(1500), pool);
    expect(inline.error).toBeUndefined();
    expect(pooled).toEqual(inline);
    expect(pooled.rows).toHaveLength(1500);
    // Both paths were taken: rows went to the workers, and the odd ones were prepared here.
    expect(pool.counts.sent).toBeGreaterThan(1000);
    expect(pool.counts.here).toBeGreaterThanOrEqual(20);
  });

  it('reads an input that reuses one mutable object per row correctly', async () => {
    const pool = newPool();
    function* reused(): Generator<unknown> {
      const row: Record<string, unknown> = {};
      const properties: Record<string, unknown> = {};
      for (let n = 0; n < 400; n++) {
        Object.assign(row, workItemRow(n), { properties });
        properties.n = n;
        yield row;
      }
    }
    const { inline, pooled } = await bothWays(reused, pool);
    expect(pooled).toEqual(inline);
    expect(new Set(pooled.rows).size).toBe(400);
    expect(pool.counts.sent).toBeGreaterThan(0);
  });

  it('ends with the same rows and error when a row cannot be read, or the input fails', async () => {
    const pool = newPool();
    function* throwingGetter(): Generator<unknown> {
      for (let n = 0; n < 300; n++) {
        if (n !== 250) yield workItemRow(n);
        else
          yield Object.defineProperty({ ...workItemRow(n) }, 'summary', {
            enumerable: true,
            get() {
              throw new Error('summary getter failed');
            },
          });
      }
    }
    const getter = await bothWays(throwingGetter, pool);
    expect(getter.pooled).toEqual(getter.inline);
    expect(getter.inline.error).toBe('Error: summary getter failed');
    expect(getter.inline.rows).toHaveLength(250);

    async function* failingInput(): AsyncGenerator<unknown> {
      for (let n = 0; n < 300; n++) yield workItemRow(n);
      throw new Error('source failed');
    }
    const input = await bothWays(failingInput, pool);
    expect(input.pooled).toEqual(input.inline);
    expect(input.pooled).toMatchObject({ error: 'Error: source failed' });
    expect(input.pooled.rows).toHaveLength(300);
  });

  it('prepares a row here when cloning it fails after the check passed', async () => {
    const pool = newPool({ threads: 1 });
    let reads = 0;
    // Text when the check reads it, a function (not cloneable) when the clone does.
    const shifty = Object.defineProperty({ ...workItemRow(1) }, 'summary', {
      enumerable: true,
      get: () => (reads++ === 0 ? 'text' : () => 'a function'),
    });
    const rows = await outcome(
      preparedRows([workItemRow(0), shifty, workItemRow(2)], { prepare, pool, inlineRows: 0 }),
    );
    expect(rows.rows).toHaveLength(3);
    expect(rows.rows[1]).toMatch(/"rejected",1,.*summary/);
    expect(pool.counts).toEqual({ sent: 2, here: 1 });
  });

  it('keeps two concurrent writes on one pool apart', async () => {
    const pool = newPool();
    const a = () => mixedRows(700);
    async function* b(): AsyncGenerator<unknown> {
      for (let n = 0; n < 500; n++) yield workItemRow(10_000 + n);
    }
    const [pooledA, pooledB] = await Promise.all([
      outcome(preparedRows(a(), { prepare, pool, inlineRows: 0 })),
      outcome(preparedRows(b(), { prepare, pool, inlineRows: 0 })),
    ]);
    expect(pooledA).toEqual(await outcome(prepareInline(a(), prepare)));
    expect(pooledB).toEqual(await outcome(prepareInline(b(), prepare)));
  });

  it('reads no further ahead than the slices it may hold', async () => {
    const pool = newPool({ threads: 1, sliceRows: 8, slicesPerThread: 2 });
    let pulled = 0;
    function* source(): Generator<unknown> {
      for (let n = 0; n < 1000; n++) {
        pulled++;
        yield workItemRow(n);
      }
    }
    const rows = preparedRows(source(), { prepare, pool, inlineRows: 0 });
    const first = await rows.next();
    expect(first.value).toMatchObject({ index: 0 });
    // Slots (1 thread × 2) and this thread's own slices (2), plus the open one: 5 slices of 8 rows.
    expect(pulled).toBeLessThanOrEqual(5 * 8 + 1);
    let count = 1;
    for await (const row of rows) expect(row.index).toBe(count++);
    expect(count).toBe(1000);
  });

  it('closes the input when the consumer stops early, and the pool stays usable', async () => {
    const pool = newPool({ threads: 1 });
    let closed = false;
    function* source(): Generator<unknown> {
      try {
        for (let n = 0; ; n++) yield workItemRow(n);
      } finally {
        closed = true;
      }
    }
    for await (const row of preparedRows(source(), { prepare, pool, inlineRows: 0 })) {
      if (row.index === 300) break;
    }
    expect(closed).toBe(true);
    const again = await bothWays(() => mixedRows(300), pool);
    expect(again.pooled).toEqual(again.inline);
  });
});

describe('PreparePool failures', () => {
  // Slots for every slice of the input: no row is prepared on this thread for want of a free worker, so
  // the faulty row surely reaches one.
  const faulty = (fault: PrepareWorkerFault) => newPool({ fault, slicesPerThread: 64 });

  async function failure(pool: PreparePool, rows = 2000): Promise<{ seen: number[]; error: unknown }> {
    const seen: number[] = [];
    try {
      for await (const row of preparedRows(mixedRows(rows), { prepare, pool, inlineRows: 0 }))
        seen.push(row.index);
    } catch (error) {
      return { seen, error };
    }
    return { seen, error: undefined };
  }

  it('fails the write with a PrepareWorkerError when a worker throws, then starts afresh', async () => {
    const pool = faulty({ kind: 'throw', index: 700 });
    const { error } = await failure(pool);
    expect(error).toBeInstanceOf(PrepareWorkerError);
    expect(String(error)).toMatch(/prepare worker failed: injected throw fault at row 700/);
    // The next write gets new workers (this one stays below the faulty row).
    const again = await bothWays(() => mixedRows(600), pool);
    expect(again.pooled).toEqual(again.inline);
    await pool.close();
    await pool.close();
  });

  it('fails the write when a worker exits', async () => {
    const pool = faulty({ kind: 'exit', index: 300 });
    const { error } = await failure(pool);
    expect(String(error)).toMatch(/prepare worker failed: the thread exited with code 3/);
    await pool.close();
  });

  it('hands on every row before one whose preparation throws in a worker, then fails', async () => {
    const pool = faulty({ kind: 'prepare', index: 1234 });
    const { seen, error } = await failure(pool);
    expect(seen).toEqual(Array.from({ length: 1234 }, (_, i) => i));
    expect(String(error)).toMatch(
      /prepare worker failed: row 1234: Error: injected prepare fault at row 1234/,
    );
    expect((error as PrepareWorkerError).reason).toBe('PrepareWorkerFailed');
  });

  it('fails the write when a worker cannot start', async () => {
    const pool = faulty({ kind: 'start', index: 0 });
    const { seen, error } = await failure(pool);
    expect(seen).toEqual([]);
    expect(String(error)).toMatch(/prepare worker failed: injected start fault/);
    await pool.close();
    expect(() => pool.session()).toThrow(/closed/);
  });

  it('refuses an unknown model on this thread already', () => {
    expect(() => newPool({ modelId: 'cdm.no.such' as CdmModelId }).session()).toThrow(/unknown CDM model/);
  });
});

describe('PreparePool workers', () => {
  it('do not keep the process alive when the pool is never closed', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'prepare-pool-'));
    try {
      const script = path.join(dir, 'unclosed.mts');
      const source = (file: string) => JSON.stringify(new URL(file, import.meta.url).href);
      writeFileSync(
        script,
        `import { PreparePool } from ${source('./prepare-pool.ts')};
import { preparedRows } from ${source('./prepared-rows.ts')};
import { rowPreparer } from ${source('./prepare-row.ts')};
import { defaultRegistry } from ${source('../models/index.ts')};
const pool = new PreparePool({ modelId: 'cdm.work.item', threads: 1 });
const rows = Array.from({ length: 2000 }, (_, n) => ({ cdm_id: 'id' + n }));
let count = 0;
const prepare = rowPreparer(defaultRegistry.get('cdm.work.item'));
for await (const row of preparedRows(rows, { prepare, pool, inlineRows: 0 })) count++;
console.log(count, pool.counts.sent > 0);
`,
      );
      // The guard only turns a hang into a failure; it measures nothing.
      const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
        cwd: process.cwd(),
        encoding: 'utf8',
        timeout: 50_000,
      });
      expect(child.stderr).toBe('');
      expect(child.stdout.trim()).toBe('2000 true');
      expect(child.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
