import { open } from 'node:fs/promises';

/**
 * What the CLI reads from one manifest file at most. Each limit fails with an error naming the file,
 * the limit and the fix, never a crash or a long stall: see docs/cli-limits.md.
 */
export const MANIFEST_LIMITS = {
  /**
   * The API server (etcd) stores an object of ~1.5 MiB at most, so a file far larger than that is not
   * one manifest; 8 MiB still holds a folder's worth of ordinary manifests in one stream. Checked
   * before parsing; the token limit below bounds the parsing work within it.
   */
  fileBytes: 8 * 1024 * 1024,
  /** Enough for any rendered chart; parsing stops at the first document over it. */
  documentsPerFile: 1000,
  /**
   * Lexical tokens (keys, values, punctuation, line breaks) per file. The `yaml` package needs up to ~5 µs and
   * ~350 bytes per token, so bytes alone do not bound the work: 8 MiB of `[1,1,1,…]` is 12 million
   * tokens, a minute and 4 GB. Ordinary manifests run 4-6 bytes per token, so a million tokens is
   * some 5 MiB of them, and at most a few seconds.
   */
  tokensPerFile: 1_000_000,
  /**
   * The `yaml` package's own default for `toJS`: legitimate manifests use a handful of aliases, while a
   * "billion laughs" document nests them to expand into billions of nodes.
   */
  aliasesPerDocument: 100,
} as const;

const MiB = 1024 * 1024;
const CHUNK_BYTES = MiB;

export const limitMessages = {
  fileTooLarge: (bytes: number | undefined) =>
    `${bytes === undefined ? `is larger than ${MANIFEST_LIMITS.fileBytes / MiB} MiB` : `is ${bytes} bytes (${(bytes / MiB).toFixed(1)} MiB)`}; the CLI reads at most ${MANIFEST_LIMITS.fileBytes / MiB} MiB per file (the API server stores at most ~1.5 MiB per object, so this is not a single manifest): split it into smaller files, or pass only the manifests cdm-sink needs`,
  tooManyTokens: () =>
    `the file has more than ${MANIFEST_LIMITS.tokensPerFile.toLocaleString('en-US')} YAML tokens (keys, values, punctuation, line breaks), the most the CLI reads per file: split it into smaller files, or pass only the manifests cdm-sink needs`,
  tooManyDocuments: () =>
    `the file has more than ${MANIFEST_LIMITS.documentsPerFile} YAML documents, the most the CLI reads per file: split it into several files`,
  tooManyAliases: () =>
    `uses YAML aliases that expand past ${MANIFEST_LIMITS.aliasesPerDocument} alias resolutions, the most the CLI allows per document (nested anchors and aliases are how a "billion laughs" memory bomb works): write the values out instead of aliasing them`,
};

export type CappedRead = { readonly text: string } | { readonly tooLarge: true; readonly bytes?: number };

/**
 * Reads a file only up to the limit: a size from `stat` alone would miss a FIFO, a device such as
 * /dev/zero or a file that grows while it is read.
 */
export async function readCapped(
  file: string,
  limit: number = MANIFEST_LIMITS.fileBytes,
): Promise<CappedRead> {
  const handle = await open(file, 'r');
  try {
    const info = await handle.stat();
    if (info.isFile() && info.size > limit) return { tooLarge: true, bytes: info.size };
    const chunks: Buffer[] = [];
    let length = 0;
    while (length <= limit) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, limit + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
    }
    if (length > limit) return { tooLarge: true };
    return { text: Buffer.concat(chunks, length).toString('utf8') };
  } finally {
    await handle.close();
  }
}

/**
 * Reads a stream (standard input, for `-f -`) only up to the limit, like `readCapped`: a pipe has no
 * size to check first, and may never end.
 */
export async function readCappedStream(
  stream: AsyncIterable<Uint8Array | string>,
  limit: number = MANIFEST_LIMITS.fileBytes,
): Promise<CappedRead> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    chunks.push(bytes);
    length += bytes.length;
    // Leaving the loop destroys the stream: nothing more is read.
    if (length > limit) return { tooLarge: true };
  }
  return { text: Buffer.concat(chunks, length).toString('utf8') };
}
