import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { DEFAULT_BATCH_LIMITS, type PrepareRow } from './batches.js';

import type { EncodedRow } from './encode-row.js';
import type { RejectedRow } from './errors.js';
import { LineBuffer } from './line-buffer.js';
import type { PreparePool, PrepareSession } from './prepare-pool.js';

/**
 * The input rows of a write, prepared (validated, encoded, hashed) in input order: on this thread, or
 * for large inputs in a `PreparePool`. `prepareBatches` cuts the result into batches.
 *
 * Guarantees:
 * - one result per input row, in input order, with its input position as `index` (0-based);
 * - the input is read lazily: inline, one row per result asked for; with a pool, no further ahead than
 *   the pool's slices in flight;
 * - the same results whichever way a row is prepared (see `prepare-pool.ts`);
 * - an error of the input, or of preparing a row, is thrown after the results of every row before it;
 * - stopping early (the consumer's `return()`) closes the input iterator, as `for await` would.
 */
export type PreparedRow = EncodedRow | RejectedRow;

export interface InlineOptions {
  /** Rows prepared between yields to the event loop (default 16, see `BatchLimits.yieldEvery`). */
  readonly yieldEvery?: number;
  /**
   * Rows per `LineBuffer` (default 5,000, about one batch, as when each batch had its own). A chunk
   * (1 MiB, or one huge row) is freed once no row in it is held, so it outlives a batch only while the
   * next batch still uses its tail.
   */
  readonly regionRows?: number;
}

export interface PreparedRowsOptions extends InlineOptions {
  /** This thread's preparation: `rowPreparer(model, limits)` of the pool's model and limits. */
  readonly prepare: PrepareRow;
  /** Prepares the rows after the first `inlineRows` of a write; without one, all are prepared inline. */
  readonly pool?: PreparePool | undefined;
  /**
   * Rows prepared inline before the pool takes over (default 5,000, one batch): a small write never
   * pays for starting workers and cloning rows to them.
   */
  readonly inlineRows?: number;
}

/**
 * What a row cloned to a worker costs this thread, relative to one prepared here (`yieldEvery` counts
 * those): screening and cloning it is about a quarter of preparing it.
 */
const CLONED_ROW_WORK = 0.25;

/** Prepares rows on this thread into buffers of `regionRows` rows each. */
class InlinePreparer {
  private lines = new LineBuffer();
  private inRegion = 0;

  constructor(
    private readonly prepare: PrepareRow,
    private readonly regionRows: number,
  ) {}

  row(row: unknown, index: number): PreparedRow {
    if (this.inRegion++ === this.regionRows) {
      this.lines = new LineBuffer();
      this.inRegion = 1;
    }
    return this.prepare(row, index, this.lines);
  }
}

/** Prepares every row of `input` on this thread (today's behaviour, and the path of small writes). */
export async function* prepareInline(
  input: Iterable<unknown> | AsyncIterable<unknown>,
  prepare: PrepareRow,
  options: InlineOptions = {},
): AsyncGenerator<PreparedRow> {
  const yieldEvery = options.yieldEvery ?? DEFAULT_BATCH_LIMITS.yieldEvery;
  const inline = new InlinePreparer(prepare, options.regionRows ?? DEFAULT_BATCH_LIMITS.maxRows);
  let index = 0;
  for await (const row of input) {
    yield inline.row(row, index);
    index++;
    if (index % yieldEvery === 0) await yieldToEventLoop();
  }
}

/** An async iterator over `input` that reads it the way `for await` does (awaiting sync values too). */
function iteratorOf(input: Iterable<unknown> | AsyncIterable<unknown>): AsyncIterator<unknown> {
  if (Symbol.asyncIterator in input) return input[Symbol.asyncIterator]();
  return (async function* () {
    yield* input;
  })();
}

/**
 * The rows of `input`, prepared: the first `inlineRows` on this thread, the rest (if any) in `pool`.
 * This is the one entry of `writeRows`.
 */
export async function* preparedRows(
  input: Iterable<unknown> | AsyncIterable<unknown>,
  options: PreparedRowsOptions,
): AsyncGenerator<PreparedRow> {
  const { pool } = options;
  if (!pool) {
    yield* prepareInline(input, options.prepare, options);
    return;
  }
  const yieldEvery = options.yieldEvery ?? DEFAULT_BATCH_LIMITS.yieldEvery;
  const inlineRows = options.inlineRows ?? DEFAULT_BATCH_LIMITS.maxRows;
  const inline = new InlinePreparer(options.prepare, options.regionRows ?? DEFAULT_BATCH_LIMITS.maxRows);
  const rows = iteratorOf(input);
  let session: PrepareSession | undefined;
  let index = 0;
  // Rows' worth of work on this thread since the last yield to the event loop.
  let work = 0;
  // Set when the input iterator completed or threw: then it must not be closed.
  let exhausted = false;
  let inputError: { readonly error: unknown } | undefined;
  try {
    for (;;) {
      let step: IteratorResult<unknown>;
      try {
        step = await rows.next();
      } catch (error) {
        exhausted = true;
        inputError = { error };
        break;
      }
      if (step.done) {
        exhausted = true;
        break;
      }
      if (!session && index < inlineRows) {
        yield inline.row(step.value, index);
        index++;
        if (index % yieldEvery === 0) await yieldToEventLoop();
        continue;
      }
      if (!session) {
        // More input than `inlineRows`: from here on the pool prepares.
        session = pool.session();
        while (session.needsDrain()) for (const row of await session.takeHead()) yield row;
      }
      work += session.push(step.value, index) ? 1 : CLONED_ROW_WORK;
      index++;
      if (work >= yieldEvery) {
        work = 0;
        await yieldToEventLoop();
      }
      // Before the next row is read: hand on what is ready, and wait while every slot is taken.
      while (session.needsDrain()) for (const row of await session.takeHead()) yield row;
    }
    if (session) {
      session.end();
      while (session.pending) for (const row of await session.takeHead()) yield row;
    }
    if (inputError) throw inputError.error;
  } finally {
    session?.abandon();
    if (!exhausted) await rows.return?.();
  }
}
