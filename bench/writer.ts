/**
 * Writer benchmark (DESIGN.md §8): 200,000 realistic `cdm.work.item` rows, side by side in one run:
 *
 * - (a) plain `COPY` into an empty table with the same indexes: the physical limit;
 * - (b) one autocommitted `INSERT … ON CONFLICT` per row on a 5,000-row sample, extrapolated. The sample
 *   runs against a table already holding half the rows (COPYed in, untimed), so it stands for the
 *   average row of a 200k load rather than the cheapest one;
 * - (c) a multi-row `INSERT … ON CONFLICT DO UPDATE` as query builders generate it (Knex's default
 *   1,000-row chunks, 33 parameters per row, well under the 65,535 limit);
 * - (d) the writer: first write into the empty table, unchanged re-write, re-write with 10 % changed;
 *   plus the writer with new rows sent through its upsert instead of COPY, to show what COPY buys.
 *
 * Every method runs in a fresh child process (so peak RSS is per method); `CHECKPOINT` precedes every
 * timed phase. Before the unchanged re-write the table is `VACUUM (ANALYZE)`d, as autovacuum does after a
 * bulk insert: otherwise the first reader of a freshly loaded table pays for setting hint bits (with
 * data checksums, ~190 MB of full-page WAL here) whatever it does; `BENCH_VACUUM=0` measures that case.
 * Reports rows/s, ratio to COPY, peak RSS, Node and Postgres CPU, WAL bytes, dead and updated tuples.
 *
 * Starts its own embedded Postgres (default settings: fsync and synchronous_commit on) unless
 * `BENCH_DATABASE_URL` is set. `BENCH_ROWS`, `BENCH_SAMPLE` and `BENCH_ROUNDS` (interleaved rounds,
 * medians reported; this machine's timings drift by ±30 %) tune it. `npm run bench:writer` prints a
 * table and writes `bench/results/writer.json`; `--json` prints only the JSON. `runWriterBench(options)`
 * is what the umbrella `bench/run.ts` calls.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { defaultRegistry } from '../src/models/index.js';
import { createIndex, createSchema, createTable } from '../src/postgres/ddl.js';
import { startEmbeddedServer } from '../src/postgres/embedded-server.js';
import { desiredTable } from '../src/postgres/table-spec.js';
import type { MethodName, MethodReport, MethodRequest } from './writer/methods.js';
import { startPgCpuSampler } from './writer/pg-cpu.js';

export interface WriterBenchOptions {
  /** Rows per method (default 200,000, or `BENCH_ROWS`). */
  readonly rows?: number;
  /** Rows for the per-row INSERT method, extrapolated (default 5,000, or `BENCH_SAMPLE`). */
  readonly perRowSample?: number;
  /** Interleaved rounds; the table shows medians (default 1, or `BENCH_ROUNDS`). */
  readonly rounds?: number;
  /** VACUUM (ANALYZE) before the unchanged re-write, as autovacuum would (default true; `BENCH_VACUUM=0`). */
  readonly vacuum?: boolean;
  /** Use this server instead of starting an embedded one (default `BENCH_DATABASE_URL`). */
  readonly databaseUrl?: string;
  /** Where to write the JSON (default `bench/results/writer.json`; `null` writes nothing). */
  readonly outputFile?: string | null;
  /** Progress lines (default: stderr). */
  readonly log?: (line: string) => void;
}

export interface PhaseResult {
  readonly phase: string;
  readonly method: MethodName;
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly ratioToCopy: number;
  readonly peakRssMb: number;
  readonly nodeCpuSeconds: number;
  /** CPU of all local Postgres processes (backends and background writers); null for a remote server. */
  readonly pgCpuSeconds: number | null;
  readonly walMb: number;
  readonly deadTuples: number;
  readonly updatedTuples: number;
  readonly extrapolated: boolean;
  readonly result?: MethodReport['result'];
}

export interface WriterBenchResult {
  readonly benchmark: 'writer';
  readonly startedAt: string;
  readonly rows: number;
  readonly rounds: number;
  readonly machine: { readonly cpus: number; readonly node: string; readonly postgres: string };
  /** Medians over rounds, one entry per phase. */
  readonly phases: readonly PhaseResult[];
  /** Every round's raw results. */
  readonly runs: readonly PhaseResult[][];
  readonly targets: Readonly<
    Record<string, { readonly value: number; readonly target: string; readonly met: boolean }>
  >;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const SCHEMA = 'bench_writer';
const item = defaultRegistry.get('cdm.work.item');

interface Phase {
  readonly phase: string;
  readonly method: MethodName;
  readonly fresh: boolean;
  /** Rows COPYed in (untimed) before the phase: the per-row sample runs at the load's midpoint. */
  readonly preloadHalf?: boolean;
  /** VACUUM (ANALYZE) the table first, as autovacuum does after a bulk insert (sets hint bits). */
  readonly vacuumFirst?: boolean;
  readonly sample?: boolean;
  readonly changedEvery?: number;
  readonly insertVia?: 'copy' | 'upsert';
}

/** Run order within a round. The writer's re-writes follow its first write on the same table. */
const PHASES: readonly Phase[] = [
  { phase: '(a) COPY into empty table', method: 'copy', fresh: true },
  { phase: '(d) writer: first write', method: 'writer', fresh: true },
  { phase: '(d) writer: unchanged re-write', method: 'writer', fresh: false, vacuumFirst: true },
  { phase: '(d) writer: 10% changed', method: 'writer', fresh: false, changedEvery: 10 },
  {
    phase: '(d) writer, new rows via upsert: first write',
    method: 'writer',
    fresh: true,
    insertVia: 'upsert',
  },
  { phase: '(c) multi-row INSERT ON CONFLICT (1000/stmt)', method: 'multi-values', fresh: true },
  {
    phase: '(b) INSERT per row, autocommit (sample)',
    method: 'row-by-row',
    fresh: true,
    sample: true,
    preloadHalf: true,
  },
];

async function resetTable(pool: pg.Pool): Promise<void> {
  const table = desiredTable(item, { schema: SCHEMA, tablePrefix: 'cdm_', sinkId: 'bench/writer' });
  await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  const statements = [
    createSchema(SCHEMA),
    createTable(table),
    ...table.indexes.map((i) => createIndex(table, i, false)),
  ];
  await pool.query(statements.map((s) => s.sql).join(';\n'));
  // Autovacuum would run at random points between phases and blur the dead-tuple counts.
  await pool.query(`ALTER TABLE ${SCHEMA}.cdm_work_item SET (autovacuum_enabled = false)`);
}

interface TableCounters {
  dead: number;
  updated: number;
}

async function counters(pool: pg.Pool): Promise<TableCounters> {
  const { rows } = await pool.query(
    `SELECT coalesce(n_dead_tup, 0)::bigint AS dead, coalesce(n_tup_upd, 0)::bigint AS updated
     FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'cdm_work_item'`,
    [SCHEMA],
  );
  return { dead: Number(rows[0]?.dead ?? 0), updated: Number(rows[0]?.updated ?? 0) };
}

/** The child's backends flush their statistics when they exit, asynchronously: wait until they settle. */
async function settledCounters(pool: pg.Pool): Promise<TableCounters> {
  let last = await counters(pool);
  for (let i = 0; i < 25; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const next = await counters(pool);
    if (next.dead === last.dead && next.updated === last.updated && i >= 2) return next;
    last = next;
  }
  return last;
}

async function runChild(request: MethodRequest) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'writer/method-runner.ts'), JSON.stringify(request)],
    { cwd: path.resolve(here, '..'), maxBuffer: 1 << 20, env: { ...process.env } },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as MethodReport & {
    nodeCpuSeconds: number;
    peakRssMb: number;
  };
}

async function runPhase(
  pool: pg.Pool,
  url: string,
  phase: Phase,
  rows: number,
  sample: number,
  vacuum: boolean,
) {
  if (phase.fresh) await resetTable(pool);
  const start = phase.preloadHalf ? Math.floor(rows / 2) : 0;
  if (start > 0) await runChild({ method: 'copy', databaseUrl: url, schema: SCHEMA, rows: start });
  if (phase.vacuumFirst && vacuum) await pool.query(`VACUUM (ANALYZE) ${SCHEMA}.cdm_work_item`);
  await pool.query('CHECKPOINT');
  const before = await settledCounters(pool);
  const { rows: lsn } = await pool.query('SELECT pg_current_wal_lsn()::text AS lsn');
  const { rows: backend } = await pool.query('SELECT pg_backend_pid() AS pid');
  const pgCpu = startPgCpuSampler(backend[0].pid);
  const count = phase.sample ? Math.min(sample, rows) : rows;
  const report = await runChild({
    method: phase.method,
    databaseUrl: url,
    schema: SCHEMA,
    rows: count,
    ...(start > 0 ? { start } : {}),
    ...(phase.changedEvery ? { changedEvery: phase.changedEvery } : {}),
    ...(phase.insertVia ? { insertVia: phase.insertVia } : {}),
  });
  const pgCpuSeconds = pgCpu ? Math.round(pgCpu.stop() * 100) / 100 : null;
  const { rows: wal } = await pool.query(
    'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint AS bytes',
    [lsn[0].lsn],
  );
  const after = await settledCounters(pool);
  return {
    phase: phase.phase,
    method: phase.method,
    rows: count,
    seconds: report.seconds,
    rowsPerSecond: Math.round(count / report.seconds),
    ratioToCopy: 0,
    peakRssMb: report.peakRssMb,
    nodeCpuSeconds: Math.round(report.nodeCpuSeconds * 100) / 100,
    pgCpuSeconds,
    walMb: Math.round(Number(wal[0].bytes) / 2 ** 20),
    deadTuples: after.dead - before.dead,
    updatedTuples: after.updated - before.updated,
    extrapolated: Boolean(phase.sample),
    ...(report.result ? { result: report.result } : {}),
  } satisfies PhaseResult;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function summarise(runs: PhaseResult[][]): PhaseResult[] {
  const phases = runs[0]!.map((first, i) => {
    const all = runs.map((run) => run[i]!);
    const byRate = [...all].sort((a, b) => a.rowsPerSecond - b.rowsPerSecond);
    return {
      ...byRate[Math.floor((byRate.length - 1) / 2)]!,
      rowsPerSecond: median(all.map((r) => r.rowsPerSecond)),
      phase: first.phase,
    };
  });
  const copy = phases.find((p) => p.method === 'copy')!.rowsPerSecond;
  return phases.map((p) => ({ ...p, ratioToCopy: Math.round((p.rowsPerSecond / copy) * 100) / 100 }));
}

function targets(phases: PhaseResult[]): WriterBenchResult['targets'] {
  const rate = (prefix: string) => phases.find((p) => p.phase.startsWith(prefix))!;
  const copy = rate('(a)');
  const first = rate('(d) writer: first');
  const unchanged = rate('(d) writer: unchanged');
  const perRow = rate('(b)');
  const peak = Math.max(...phases.filter((p) => p.method === 'writer').map((p) => p.peakRssMb));
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    firstWriteVsCopy: {
      value: round(first.rowsPerSecond / copy.rowsPerSecond),
      target: '>= 0.8',
      met: first.rowsPerSecond >= 0.8 * copy.rowsPerSecond,
    },
    unchangedVsFirst: {
      value: round(unchanged.rowsPerSecond / first.rowsPerSecond),
      target: '>= 1.5',
      met: unchanged.rowsPerSecond >= 1.5 * first.rowsPerSecond,
    },
    unchangedDeadTuples: { value: unchanged.deadTuples, target: '== 0', met: unchanged.deadTuples === 0 },
    firstWriteVsPerRowInsert: {
      value: round(first.rowsPerSecond / perRow.rowsPerSecond),
      target: '>= 15',
      met: first.rowsPerSecond >= 15 * perRow.rowsPerSecond,
    },
    writerPeakRssMb: { value: peak, target: '< 250', met: peak < 250 },
  };
}

/** A readable table of the medians and the targets. */
export function formatWriterBench(result: WriterBenchResult): string {
  const header = [
    'phase',
    'rows',
    's',
    'rows/s',
    'x COPY',
    'RSS MB',
    'node CPU s',
    'PG CPU s',
    'WAL MB',
    'dead tup',
    'upd tup',
  ];
  const lines = result.phases.map((p) => [
    p.phase,
    String(p.rows) + (p.extrapolated ? '*' : ''),
    p.seconds.toFixed(2),
    String(p.rowsPerSecond),
    p.ratioToCopy.toFixed(2),
    String(p.peakRssMb),
    p.nodeCpuSeconds.toFixed(1),
    p.pgCpuSeconds === null ? '-' : p.pgCpuSeconds.toFixed(1),
    String(p.walMb),
    String(p.deadTuples),
    String(p.updatedTuples),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const out = [
    row(header),
    `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...lines.map(row),
  ];
  out.push(
    '',
    `* sample, rows/s extrapolated. Median of ${result.rounds} round(s); ${result.machine.cpus} CPUs, Node ${result.machine.node}, ${result.machine.postgres}.`,
  );
  for (const [name, t] of Object.entries(result.targets))
    out.push(`${t.met ? 'MET ' : 'MISS'} ${name}: ${t.value} (target ${t.target})`);
  return out.join('\n');
}

/** Runs the benchmark and returns its JSON (also written to `outputFile`). */
export async function runWriterBench(options: WriterBenchOptions = {}): Promise<WriterBenchResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const rows = options.rows ?? Number(process.env.BENCH_ROWS ?? 200_000);
  const sample = options.perRowSample ?? Number(process.env.BENCH_SAMPLE ?? 5_000);
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 1);
  const vacuum = options.vacuum ?? process.env.BENCH_VACUUM !== '0';
  let url = options.databaseUrl ?? process.env.BENCH_DATABASE_URL;
  let stop: (() => Promise<void>) | undefined;
  let tmp: string | undefined;
  if (!url) {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'cdm-writer-bench-'));
    await chmod(tmp, 0o755);
    const server = await startEmbeddedServer({ dataDir: path.join(tmp, 'pg'), persistent: false });
    url = server.url;
    stop = server.stop;
    log(`embedded Postgres on port ${server.port}`);
  }
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    const { rows: version } = await pool.query('SELECT version() AS v');
    const startedAt = new Date().toISOString();
    const runs: PhaseResult[][] = [];
    for (let round = 1; round <= rounds; round++) {
      const run: PhaseResult[] = [];
      for (const phase of PHASES) {
        const result = await runPhase(pool, url, phase, rows, sample, vacuum);
        log(`round ${round}: ${phase.phase}: ${result.rowsPerSecond} rows/s, RSS ${result.peakRssMb} MB`);
        run.push(result);
      }
      runs.push(run);
    }
    const phases = summarise(runs);
    const result: WriterBenchResult = {
      benchmark: 'writer',
      startedAt,
      rows,
      rounds,
      machine: {
        cpus: os.cpus().length,
        node: process.version,
        postgres: String(version[0].v).split(' on ')[0]!,
      },
      phases,
      runs: runs.map((run) => summarise([run])),
      targets: targets(phases),
    };
    const outputFile =
      options.outputFile === undefined ? path.join(here, 'results/writer.json') : options.outputFile;
    if (outputFile) {
      await mkdir(path.dirname(outputFile), { recursive: true });
      await writeFile(outputFile, `${JSON.stringify(result, null, 2)}\n`);
    }
    return result;
  } finally {
    await pool.end();
    await stop?.();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const jsonOnly = process.argv.includes('--json');
  runWriterBench()
    .then((result) => {
      process.stdout.write(jsonOnly ? `${JSON.stringify(result)}\n` : `${formatWriterBench(result)}\n`);
    })
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
