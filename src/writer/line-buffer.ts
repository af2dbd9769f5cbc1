/**
 * Off-heap storage for a batch's encoded COPY lines.
 *
 * Why: a batch lives for a while (prepared while the previous one executes, then executed). Kept as JS
 * strings and arrays, its data would be copied by every young-generation GC and then promoted; measured,
 * that GC work cost more than the encoding itself. Lines written once into Buffers (outside the V8 heap)
 * cost one UTF-8 encode, are hashed from the same bytes, and go to the socket as they are.
 */

/** Where one encoded line lives. */
export interface LineRef {
  readonly chunk: Buffer;
  readonly start: number;
  readonly end: number;
}

const CHUNK_BYTES = 1 << 20;

/** Append-only chunks of bytes; one per batch, dropped with it. */
export class LineBuffer {
  private chunk: Buffer = Buffer.allocUnsafe(0);
  private offset = 0;

  /** Starts a line that will take at most `maxBytes`; returns the chunk and offset to write at. */
  reserve(maxBytes: number): { chunk: Buffer; start: number } {
    if (this.offset + maxBytes > this.chunk.length) {
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, maxBytes));
      this.offset = 0;
    }
    return { chunk: this.chunk, start: this.offset };
  }

  /** Marks the reserved line as ending at `end` (exclusive). */
  commit(end: number): void {
    this.offset = end;
  }

  /**
   * Starts over at the beginning of the current chunk, which later lines then overwrite: only once no
   * line written so far is read any more (a prepare worker, after copying a slice's lines out). Reusing
   * the chunk spares allocating and collecting one per slice; an outsized one (a huge row's) is dropped.
   */
  rewind(): void {
    if (this.chunk.length > CHUNK_BYTES) this.chunk = Buffer.allocUnsafe(0);
    this.offset = 0;
  }
}

/**
 * Joins lines into buffers of about `chunkBytes` for the COPY stream, in the given order. One memcpy per
 * line; the stream then sends few, large CopyData messages.
 */
export function* joinLines(lines: readonly LineRef[], chunkBytes = 256 << 10): Generator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  for (const line of lines) {
    pending.push(line.chunk.subarray(line.start, line.end));
    size += line.end - line.start;
    if (size >= chunkBytes) {
      yield Buffer.concat(pending, size);
      pending = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(pending, size);
}
