/**
 * Writer benchmark (DESIGN.md §8, targets of issue 12): 200,000 realistic `cdm.work.item` rows, side by
 * side in one run:
 *
 * - (a) plain `COPY` into an empty table with the same indexes: the physical limit;
 * - (b) one autocommitted `INSERT … ON CONFLICT` per row on a 5,000-row sample, extrapolated. The sample
 *   runs against a table already holding half the rows (COPYed in, untimed), so it stands for the
 *   average row of a 200k load rather than the cheapest one;
 * - (c) a multi-row `INSERT … ON CONFLICT DO UPDATE` as query builders generate it (Knex's default
 *   1,000-row chunks, 33 parameters per row, well under the 65,535 limit);
 * - (d) the writer: first write into the empty table, unchanged re-write, re-write with 10 % changed;
 *   plus the writer with new rows sent through its upsert instead of COPY, to show what COPY buys;
 * - (e) four writers started at once (a start barrier after their setup) on a fresh table, writer k
 *   writing rows [k·N/8, k·N/8 + N/2) at version k, so neighbours overlap by half: aggregate rows/s is
 *   all rows written / (last finish − first start), and afterwards every `cdm_id` must hold its newest
 *   version (mismatches counted, worst round reported);
 * - (f) `bench/writer/memory-probe.ts`: a 2,000,000-row `cdm.work.user` stream (`BENCH_STREAM_ROWS`,
 *   0 skips it) through one writer, for its peak RSS and rows/s.
 *
 * Every method runs in a fresh child process (so peak RSS is per method); `CHECKPOINT` precedes every
 * timed phase. Before the unchanged re-write the table is `VACUUM (ANALYZE)`d, as autovacuum does after a
 * bulk insert: otherwise the first reader of a freshly loaded table pays for setting hint bits (with
 * data checksums, ~190 MB of full-page WAL here) whatever it does; `BENCH_VACUUM=0` measures that case.
 * Reports rows/s, ratio to COPY, peak RSS, Node CPU of the timed section (whole child process, worker
 * threads included), the writer's own CPU per row (that CPU minus what generating the same rows costs,
 * measured in the same child just before its timed write), Postgres CPU, WAL, dead and updated tuples.
 *
 * Starts its own embedded Postgres (default settings: fsync and synchronous_commit on) unless
 * `BENCH_DATABASE_URL` is set. `BENCH_ROWS`, `BENCH_SAMPLE`, `BENCH_STREAM_ROWS`, `BENCH_ROUNDS`
 * (interleaved rounds, medians reported; this machine's timings drift by ±30 %) and
 * `BENCH_PREPARE_THREADS` (the writer's `prepareThreads` in every writer phase; unset: its default) tune
 * it. `npm run bench:writer` prints a table and the targets and writes `bench/results/writer.json`;
 * `--json` prints only the JSON. `runWriterBench(options)` is what the umbrella `bench/run.ts` calls.
 */
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { defaultRegistry } from '../src/models/index.js';
import type { CdmModelId } from '../src/models/row-types.generated.js';
import { createIndex, createSchema, createTable } from '../src/postgres/ddl.js';
import { startEmbeddedServer } from '../src/postgres/embedded-server.js';
import { desiredTable } from '../src/postgres/table-spec.js';
import type { MethodName, MethodReport, MethodRequest } from './writer/methods.js';
import { startPgCpuSampler } from './writer/pg-cpu.js';
import { cdmIdOf, workItemRow } from './writer/rows.js';

export interface WriterBenchOptions {
  /** Rows per method (default 200,000, or `BENCH_ROWS`). */
  readonly rows?: number;
  /** Rows for the per-row INSERT method, extrapolated (default 5,000, or `BENCH_SAMPLE`). */
  readonly perRowSample?: number;
  /** Rows of the memory-probe stream, phase (f) (default 2,000,000, or `BENCH_STREAM_ROWS`; 0 skips it). */
  readonly streamRows?: number;
  /** The writer's `prepareThreads` in every writer phase (default `BENCH_PREPARE_THREADS`, else unset). */
  readonly prepareThreads?: number;
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

/** A method of `methods.ts`, or the memory probe's stream (phase f). */
export type PhaseMethod = MethodName | 'memory-probe';

export interface PhaseResult {
  readonly phase: string;
  readonly method: PhaseMethod;
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  /** Rows/s over COPY's; null for the stream, whose rows are of another model. */
  readonly ratioToCopy: number | null;
  readonly peakRssMb: number;
  /** CPU of the child process (all threads) during the timed section; summed over concurrent writers. */
  readonly nodeCpuSeconds: number;
  /** CPU of generating the same rows alone, in the same child (writer phases; null elsewhere). */
  readonly generatorCpuSeconds: number | null;
  /** (nodeCpuSeconds − generatorCpuSeconds) / rows, in µs: the writer's own CPU per row. */
  readonly writerCpuUsPerRow: number | null;
  /** CPU of all local Postgres processes (backends and background writers); null for a remote server. */
  readonly pgCpuSeconds: number | null;
  readonly walBytes: number;
  /** WAL in MB (2^20 bytes), three decimals. */
  readonly walMb: number;
  readonly deadTuples: number;
  readonly updatedTuples: number;
  readonly extrapolated: boolean;
  /** Phase (e): writers run at once, writers that failed, and `cdm_id`s not holding their newest version. */
  readonly concurrent?: {
    readonly writers: number;
    readonly failedWriters: number;
    readonly mismatches: number;
    readonly errors?: readonly string[];
  };
  readonly result?: MethodReport['result'];
}

export interface WriterBenchResult {
  readonly benchmark: 'writer';
  readonly startedAt: string;
  readonly rows: number;
  readonly streamRows: number;
  /** The writer's `prepareThreads` as passed; null: the writer's default. */
  readonly prepareThreads: number | null;
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
const ITEM: CdmModelId = 'cdm.work.item';
const STREAM_MODEL: CdmModelId = 'cdm.work.user';
/** Writers of phase (e). */
const CONCURRENT_WRITERS = 4;

interface Phase {
  readonly phase: string;
  readonly method: PhaseMethod;
  readonly fresh: boolean;
  /** Rows COPYed in (untimed) before the phase: the per-row sample runs at the load's midpoint. */
  readonly preloadHalf?: boolean;
  /** VACUUM (ANALYZE) the table first, as autovacuum does after a bulk insert (sets hint bits). */
  readonly vacuumFirst?: boolean;
  readonly sample?: boolean;
  readonly changedEvery?: number;
  readonly insertVia?: 'copy' | 'upsert';
  /** Phase (e): `CONCURRENT_WRITERS` writers at once with overlapping ranges. */
  readonly concurrent?: boolean;
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
  {
    phase: `(e) ${CONCURRENT_WRITERS} concurrent writers, overlapping (aggregate)`,
    method: 'writer',
    fresh: true,
    concurrent: true,
  },
  { phase: '(c) multi-row INSERT ON CONFLICT (1000/stmt)', method: 'multi-values', fresh: true },
  {
    phase: '(b) INSERT per row, autocommit (sample)',
    method: 'row-by-row',
    fresh: true,
    sample: true,
    preloadHalf: true,
  },
  { phase: `(f) writer: stream of ${STREAM_MODEL} (memory probe)`, method: 'memory-probe', fresh: true },
];

function tableName(modelId: CdmModelId): string {
  return desiredTable(defaultRegistry.get(modelId), {
    schema: SCHEMA,
    tablePrefix: 'cdm_',
    sinkId: 'bench/writer',
  }).name;
}

async function resetTable(pool: pg.Pool, modelId: CdmModelId): Promise<void> {
  const model = defaultRegistry.get(modelId);
  const table = desiredTable(model, { schema: SCHEMA, tablePrefix: 'cdm_', sinkId: 'bench/writer' });
  await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  const statements = [
    createSchema(SCHEMA),
    createTable(table),
    ...table.indexes.map((i) => createIndex(table, i, false)),
  ];
  await pool.query(statements.map((s) => s.sql).join(';\n'));
  // Autovacuum would run at random points between phases and blur the dead-tuple counts.
  await pool.query(`ALTER TABLE ${SCHEMA}.${table.name} SET (autovacuum_enabled = false)`);
}

interface TableCounters {
  dead: number;
  updated: number;
}

async function counters(pool: pg.Pool, relname: string): Promise<TableCounters> {
  const { rows } = await pool.query(
    `SELECT coalesce(n_dead_tup, 0)::bigint AS dead, coalesce(n_tup_upd, 0)::bigint AS updated
     FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2`,
    [SCHEMA, relname],
  );
  return { dead: Number(rows[0]?.dead ?? 0), updated: Number(rows[0]?.updated ?? 0) };
}

/** The child's backends flush their statistics when they exit, asynchronously: wait until they settle. */
async function settledCounters(pool: pg.Pool, relname: string): Promise<TableCounters> {
  let last = await counters(pool, relname);
  for (let i = 0; i < 25; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const next = await counters(pool, relname);
    if (next.dead === last.dead && next.updated === last.updated && i >= 2) return next;
    last = next;
  }
  return last;
}

type ChildReport = MethodReport & { nodeCpuSeconds: number; peakRssMb: number };

const RUNNER = ['--import', 'tsx', path.join(here, 'writer/method-runner.ts')];
const ROOT = path.resolve(here, '..');

async function runChild(request: MethodRequest): Promise<ChildReport> {
  const { stdout } = await promisify(execFile)(process.execPath, [...RUNNER, JSON.stringify(request)], {
    cwd: ROOT,
    maxBuffer: 1 << 20,
    env: { ...process.env },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildReport;
}

interface BarrierChild {
  /** Settles when the child is set up (or has died). */
  readonly ready: Promise<void>;
  go(): void;
  readonly done: Promise<ChildReport>;
}

/** A child that sets up, prints `ready`, and starts its timed section on `go()`. */
function startBarrierChild(request: MethodRequest): BarrierChild {
  const child = spawn(process.execPath, [...RUNNER, JSON.stringify({ ...request, barrier: true })], {
    cwd: ROOT,
    env: { ...process.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.startsWith('ready\n')) markReady();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<ChildReport>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      markReady();
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as ChildReport);
      else
        reject(
          new Error(`writer child exited with ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`),
        );
    });
  });
  done.catch(() => {});
  return {
    ready,
    go: () => {
      child.stdin.end('go\n');
    },
    done,
  };
}

/** What a phase's child(ren) report, before the measurements from outside are added. */
interface Outcome {
  readonly rows: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly generatorCpuSeconds: number | null;
  readonly peakRssMb: number;
  readonly result?: MethodReport['result'];
  readonly concurrent?: PhaseResult['concurrent'];
}

/** Range of writer k in phase (e): [k·N/8, k·N/8 + N/2) at version k. */
function concurrentRange(k: number, rows: number): { start: number; count: number } {
  return { start: Math.floor((k * rows) / 8), count: Math.floor(rows / 2) };
}

/** The version row `n` should hold after phase (e): the highest of the writers whose range holds it. */
function newestVersion(n: number, rows: number): number | undefined {
  for (let k = CONCURRENT_WRITERS - 1; k >= 0; k--) {
    const { start, count } = concurrentRange(k, rows);
    if (n >= start && n < start + count) return k;
  }
  return undefined;
}

async function runConcurrentWriters(url: string, rows: number, prepareThreads?: number): Promise<Outcome> {
  const children = Array.from({ length: CONCURRENT_WRITERS }, (_, k) =>
    startBarrierChild({
      method: 'writer',
      databaseUrl: url,
      schema: SCHEMA,
      rows: concurrentRange(k, rows).count,
      start: concurrentRange(k, rows).start,
      ...(k > 0 ? { version: k } : {}),
      ...(prepareThreads !== undefined ? { prepareThreads } : {}),
    }),
  );
  await Promise.all(children.map((c) => c.ready));
  for (const c of children) c.go();
  const settled = await Promise.allSettled(children.map((c) => c.done));
  const reports = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const errors = settled.flatMap((s) =>
    s.status === 'rejected' ? [String(s.reason?.message ?? s.reason)] : [],
  );
  const sum = (f: (r: ChildReport) => number) => reports.reduce((total, r) => total + f(r), 0);
  const first = Math.min(...reports.map((r) => r.startedAtMs));
  const last = Math.max(...reports.map((r) => r.finishedAtMs));
  return {
    rows: sum((r) => r.rows),
    seconds: reports.length > 0 ? (last - first) / 1000 : Number.NaN,
    cpuSeconds: sum((r) => r.cpuSeconds),
    generatorCpuSeconds: sum((r) => r.generatorCpuSeconds ?? 0),
    peakRssMb: Math.max(0, ...reports.map((r) => r.peakRssMb)),
    result: {
      modelId: ITEM,
      received: sum((r) => r.result?.received ?? 0),
      inserted: sum((r) => r.result?.inserted ?? 0),
      updated: sum((r) => r.result?.updated ?? 0),
      unchanged: sum((r) => r.result?.unchanged ?? 0),
      stale: sum((r) => r.result?.stale ?? 0),
      rejected: sum((r) => r.result?.rejected ?? 0),
    },
    concurrent: {
      writers: CONCURRENT_WRITERS,
      failedWriters: errors.length,
      mismatches: 0,
      ...(errors.length > 0 ? { errors } : {}),
    },
  };
}

/**
 * `cdm_id`s that do not hold their newest version after phase (e) (compared on `updated_at` and
 * `summary`, which every version changes), plus missing and unexpected rows.
 */
async function countNotNewest(pool: pg.Pool, rows: number): Promise<number> {
  const table = `${SCHEMA}.${tableName(ITEM)}`;
  let expectedRows = 0;
  let mismatches = 0;
  const end = concurrentRange(CONCURRENT_WRITERS - 1, rows).start + concurrentRange(0, rows).count;
  const CHUNK = 5000;
  for (let from = 0; from < end; from += CHUNK) {
    const expected = new Map<string, { updatedMs: number; summary: string }>();
    for (let n = from; n < Math.min(from + CHUNK, end); n++) {
      const version = newestVersion(n, rows);
      if (version === undefined) continue;
      const row = workItemRow(n, { version });
      expected.set(cdmIdOf(n), { updatedMs: Date.parse(row.updated_at), summary: row.summary });
    }
    expectedRows += expected.size;
    const { rows: stored } = await pool.query<{ cdm_id: string; updated_at: Date; summary: string }>(
      `SELECT cdm_id, updated_at, summary FROM ${table} WHERE cdm_id = ANY($1::text[])`,
      [[...expected.keys()]],
    );
    mismatches += expected.size - stored.length;
    for (const row of stored) {
      const want = expected.get(row.cdm_id)!;
      if (row.updated_at.getTime() !== want.updatedMs || row.summary !== want.summary) mismatches++;
    }
  }
  const { rows: total } = await pool.query(`SELECT count(*)::bigint AS n FROM ${table}`);
  return mismatches + Math.abs(Number(total[0].n) - expectedRows);
}

async function runStreamProbe(url: string, rows: number, prepareThreads?: number): Promise<Outcome> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'writer/memory-probe.ts')],
    {
      cwd: ROOT,
      maxBuffer: 1 << 20,
      env: {
        ...process.env,
        PROBE_DATABASE_URL: url,
        PROBE_ROWS: String(rows),
        PROBE_MODEL: STREAM_MODEL,
        PROBE_SCHEMA: SCHEMA,
        ...(prepareThreads !== undefined ? { PROBE_PREPARE_THREADS: String(prepareThreads) } : {}),
      },
    },
  );
  const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    rows: number;
    seconds: number;
    cpuSeconds: number;
    peakRssMb: number;
    result: MethodReport['result'];
  };
  return { ...report, generatorCpuSeconds: null };
}

interface RunSettings {
  readonly url: string;
  readonly rows: number;
  readonly sample: number;
  readonly streamRows: number;
  readonly vacuum: boolean;
  readonly prepareThreads: number | undefined;
}

async function runPhase(pool: pg.Pool, phase: Phase, settings: RunSettings): Promise<PhaseResult> {
  const { url, rows, sample, vacuum, prepareThreads } = settings;
  const model = phase.method === 'memory-probe' ? STREAM_MODEL : ITEM;
  const relname = tableName(model);
  if (phase.fresh) await resetTable(pool, model);
  const start = phase.preloadHalf ? Math.floor(rows / 2) : 0;
  if (start > 0) await runChild({ method: 'copy', databaseUrl: url, schema: SCHEMA, rows: start });
  if (phase.vacuumFirst && vacuum) await pool.query(`VACUUM (ANALYZE) ${SCHEMA}.${relname}`);
  await pool.query('CHECKPOINT');
  const before = await settledCounters(pool, relname);
  const { rows: lsn } = await pool.query('SELECT pg_current_wal_lsn()::text AS lsn');
  const { rows: backend } = await pool.query('SELECT pg_backend_pid() AS pid');
  const pgCpu = startPgCpuSampler(backend[0].pid);
  const threads = phase.method !== 'writer' || prepareThreads === undefined ? {} : { prepareThreads };
  let outcome: Outcome;
  if (phase.method === 'memory-probe')
    // The stream's target is peak RSS with the prepare pool on: one thread at least, whatever the default.
    outcome = await runStreamProbe(url, settings.streamRows, prepareThreads ?? 1);
  else if (phase.concurrent) outcome = await runConcurrentWriters(url, rows, prepareThreads);
  else {
    const report = await runChild({
      method: phase.method,
      databaseUrl: url,
      schema: SCHEMA,
      rows: phase.sample ? Math.min(sample, rows) : rows,
      ...(start > 0 ? { start } : {}),
      ...(phase.changedEvery ? { changedEvery: phase.changedEvery } : {}),
      ...(phase.insertVia ? { insertVia: phase.insertVia } : {}),
      ...threads,
    });
    outcome = { ...report, generatorCpuSeconds: report.generatorCpuSeconds ?? null };
  }
  const pgCpuSeconds = pgCpu ? Math.round(pgCpu.stop() * 100) / 100 : null;
  const { rows: wal } = await pool.query(
    'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::bigint AS bytes',
    [lsn[0].lsn],
  );
  const after = await settledCounters(pool, relname);
  // Read after the measurements: the check's reads would count as the phase's otherwise.
  const concurrent = outcome.concurrent && {
    ...outcome.concurrent,
    mismatches: await countNotNewest(pool, rows),
  };
  const walBytes = Number(wal[0].bytes);
  const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
  const generator = outcome.generatorCpuSeconds;
  return {
    phase: phase.phase,
    method: phase.method,
    rows: outcome.rows,
    seconds: round(outcome.seconds, 3),
    rowsPerSecond: Math.round(outcome.rows / outcome.seconds),
    ratioToCopy: null,
    peakRssMb: outcome.peakRssMb,
    nodeCpuSeconds: round(outcome.cpuSeconds, 3),
    generatorCpuSeconds: generator === null ? null : round(generator, 3),
    writerCpuUsPerRow:
      generator === null ? null : round(((outcome.cpuSeconds - generator) / outcome.rows) * 1e6, 2),
    pgCpuSeconds,
    walBytes,
    walMb: round(walBytes / 2 ** 20, 3),
    deadTuples: after.dead - before.dead,
    updatedTuples: after.updated - before.updated,
    extrapolated: Boolean(phase.sample),
    ...(concurrent ? { concurrent } : {}),
    ...(outcome.result ? { result: outcome.result } : {}),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/**
 * One entry per phase: the round with the median rows/s, with rows/s and the writer's CPU per row
 * replaced by their own medians; the concurrent check's counts are the worst round's.
 */
function summarise(runs: PhaseResult[][]): PhaseResult[] {
  const phases = runs[0]!.map((first, i): PhaseResult => {
    const all = runs.map((run) => run[i]!);
    const byRate = [...all].sort((a, b) => a.rowsPerSecond - b.rowsPerSecond);
    const perRow = all.flatMap((r) => (r.writerCpuUsPerRow === null ? [] : [r.writerCpuUsPerRow]));
    const mid = byRate[Math.floor((byRate.length - 1) / 2)]!;
    const worst = [...all].sort(
      (a, b) =>
        (b.concurrent?.failedWriters ?? 0) - (a.concurrent?.failedWriters ?? 0) ||
        (b.concurrent?.mismatches ?? 0) - (a.concurrent?.mismatches ?? 0),
    )[0]!;
    return {
      ...mid,
      rowsPerSecond: median(all.map((r) => r.rowsPerSecond)),
      writerCpuUsPerRow: perRow.length > 0 ? median(perRow) : null,
      phase: first.phase,
      ...(worst.concurrent ? { concurrent: worst.concurrent } : {}),
    };
  });
  const copy = phases.find((p) => p.method === 'copy')!.rowsPerSecond;
  return phases.map((p) => ({
    ...p,
    ratioToCopy: p.method === 'memory-probe' ? null : Math.round((p.rowsPerSecond / copy) * 100) / 100,
  }));
}

function targets(phases: PhaseResult[]): WriterBenchResult['targets'] {
  const find = (prefix: string) => phases.find((p) => p.phase.startsWith(prefix));
  const rate = (prefix: string) => find(prefix)!;
  const copy = rate('(a)');
  const first = rate('(d) writer: first');
  const unchanged = rate('(d) writer: unchanged');
  const changed = rate('(d) writer: 10%');
  const perRow = rate('(b)');
  const concurrent = find('(e)');
  const stream = find('(f)');
  const peak = Math.max(...phases.filter((p) => p.method === 'writer').map((p) => p.peakRssMb));
  const round = (n: number) => Math.round(n * 100) / 100;
  const out: Record<string, { value: number; target: string; met: boolean }> = {
    firstWriteVsCopy: {
      value: round(first.rowsPerSecond / copy.rowsPerSecond),
      target: '>= 0.9',
      met: first.rowsPerSecond >= 0.9 * copy.rowsPerSecond,
    },
    unchangedVsFirst: {
      value: round(unchanged.rowsPerSecond / first.rowsPerSecond),
      target: '>= 3',
      met: unchanged.rowsPerSecond >= 3 * first.rowsPerSecond,
    },
    unchangedDeadTuples: { value: unchanged.deadTuples, target: '== 0', met: unchanged.deadTuples === 0 },
    unchangedWalMb: { value: unchanged.walMb, target: '< 1', met: unchanged.walBytes < 2 ** 20 },
    unchangedWriterCpuUsPerRow: {
      value: unchanged.writerCpuUsPerRow ?? Number.NaN,
      target: '<= 12',
      met: unchanged.writerCpuUsPerRow !== null && unchanged.writerCpuUsPerRow <= 12,
    },
    changed10VsFirst: {
      value: round(changed.rowsPerSecond / first.rowsPerSecond),
      target: '>= 2',
      met: changed.rowsPerSecond >= 2 * first.rowsPerSecond,
    },
    firstWriteVsPerRowInsert: {
      value: round(first.rowsPerSecond / perRow.rowsPerSecond),
      target: '>= 15',
      met: first.rowsPerSecond >= 15 * perRow.rowsPerSecond,
    },
    writerPeakRssMb: { value: peak, target: '< 250', met: peak < 250 },
  };
  if (concurrent?.concurrent) {
    const { mismatches, failedWriters } = concurrent.concurrent;
    out.concurrentNewestWins = {
      value: mismatches,
      target: `== 0 mismatches${failedWriters > 0 ? ` (${failedWriters} writer(s) failed)` : ''}`,
      met: mismatches === 0 && failedWriters === 0,
    };
  }
  if (stream) out.streamPeakRssMb = { value: stream.peakRssMb, target: '< 250', met: stream.peakRssMb < 250 };
  return out;
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
    'writer µs/row',
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
    p.ratioToCopy === null ? '-' : p.ratioToCopy.toFixed(2),
    String(p.peakRssMb),
    p.nodeCpuSeconds.toFixed(2),
    p.writerCpuUsPerRow === null ? '-' : p.writerCpuUsPerRow.toFixed(1),
    p.pgCpuSeconds === null ? '-' : p.pgCpuSeconds.toFixed(1),
    p.walMb < 10 ? p.walMb.toFixed(3) : p.walMb.toFixed(0),
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
  const threads = result.prepareThreads === null ? 'default' : String(result.prepareThreads);
  out.push(
    '',
    `* sample, rows/s extrapolated. Median of ${result.rounds} round(s); ${result.machine.cpus} CPUs, Node ${result.machine.node}, ${result.machine.postgres}; prepareThreads ${threads}.`,
    'writer µs/row: node CPU of the timed write (all threads) minus generating the same rows, per row.',
  );
  for (const p of result.phases) {
    if (!p.concurrent) continue;
    out.push(
      `${p.phase}: ${p.concurrent.writers} writers, ${p.concurrent.failedWriters} failed, ${p.concurrent.mismatches} cdm_id(s) not at their newest version.`,
    );
    for (const e of p.concurrent.errors ?? []) out.push(`  ${e}`);
  }
  for (const [name, t] of Object.entries(result.targets))
    out.push(`${t.met ? 'MET ' : 'MISS'} ${name}: ${t.value} (target ${t.target})`);
  return out.join('\n');
}

/** Runs the benchmark and returns its JSON (also written to `outputFile`). */
export async function runWriterBench(options: WriterBenchOptions = {}): Promise<WriterBenchResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const rows = options.rows ?? Number(process.env.BENCH_ROWS ?? 200_000);
  const sample = options.perRowSample ?? Number(process.env.BENCH_SAMPLE ?? 5_000);
  const streamRows = options.streamRows ?? Number(process.env.BENCH_STREAM_ROWS ?? 2_000_000);
  const threadsEnv = process.env.BENCH_PREPARE_THREADS;
  const prepareThreads = options.prepareThreads ?? (threadsEnv ? Number(threadsEnv) : undefined);
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
    const settings: RunSettings = { url, rows, sample, streamRows, vacuum, prepareThreads };
    const phases = PHASES.filter((p) => p.method !== 'memory-probe' || streamRows > 0);
    const runs: PhaseResult[][] = [];
    for (let round = 1; round <= rounds; round++) {
      const run: PhaseResult[] = [];
      for (const phase of phases) {
        const result = await runPhase(pool, phase, settings);
        const check = result.concurrent
          ? `, ${result.concurrent.failedWriters} failed, ${result.concurrent.mismatches} not newest`
          : '';
        log(
          `round ${round}: ${phase.phase}: ${result.rowsPerSecond} rows/s, RSS ${result.peakRssMb} MB${check}`,
        );
        run.push(result);
      }
      runs.push(run);
    }
    const medians = summarise(runs);
    const result: WriterBenchResult = {
      benchmark: 'writer',
      startedAt,
      rows,
      streamRows,
      prepareThreads: prepareThreads ?? null,
      rounds,
      machine: {
        cpus: os.cpus().length,
        node: process.version,
        postgres: String(version[0].v).split(' on ')[0]!,
      },
      phases: medians,
      runs: runs.map((run) => summarise([run])),
      targets: targets(medians),
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
