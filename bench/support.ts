import { chmod, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedServer } from '../src/postgres/embedded-server.js';

/** A Postgres server for a benchmark: BENCH_DATABASE_URL, or a throw-away embedded one. */
export async function benchServer(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.BENCH_DATABASE_URL) return { url: process.env.BENCH_DATABASE_URL, stop: async () => {} };
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-bench-'));
  await chmod(tmp, 0o755);
  const server = await startEmbeddedServer({
    dataDir: path.join(tmp, 'pg'),
    persistent: false,
    settings: { max_connections: '300' },
  });
  return { url: server.url, stop: () => server.stop() };
}

/** Creates an empty database on the server and returns its URL. */
export async function freshDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function printTable(title: string, rows: ReadonlyArray<Record<string, string | number>>): void {
  if (rows.length === 0) return;
  const headers = Object.keys(rows[0]!);
  const cells = rows.map((r) => headers.map((h) => String(r[h])));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  process.stderr.write(
    `\n${title}\n${line(headers)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${cells.map(line).join('\n')}\n`,
  );
}

/** Drops a database `freshDatabase` made, ending any sessions left on it. */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat: fields 14 and 15 in
 * clock ticks, counted after the parenthesised command name, which may itself contain spaces.
 */
export async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Linux reports in USER_HZ, 100 on every architecture Node runs on.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
