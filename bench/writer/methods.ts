/**
 * The write methods the benchmark compares, each against one prepared, empty (or pre-loaded) table:
 * plain COPY (the physical limit), one autocommitted INSERT per row, a query-builder style multi-row
 * INSERT … ON CONFLICT, and the writer itself. Each runs in its own child process (`method-runner.ts`).
 * The writer method also measures, before its timed write, the CPU that generating the same rows costs
 * (`generatorCpuSeconds`), so the benchmark can report the writer's own CPU per row.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { defaultRegistry } from '../../src/models/index.js';
import { qualified, quoteIdent } from '../../src/postgres/identifiers.js';
import { arrayLiteral, copyEscape } from '../../src/writer/copy-encoding.js';
import { CdmSinkWriter, type FromEndpointOptions, type WriteResult } from '../../src/writer/index.js';
import { workItemRows } from './rows.js';

export type MethodName = 'copy' | 'row-by-row' | 'multi-values' | 'writer';

export interface MethodRequest {
  readonly method: MethodName;
  readonly databaseUrl: string;
  readonly schema: string;
  readonly rows: number;
  /** First row number of the generated data set (default 0). */
  readonly start?: number;
  /** Row version of the generated data set (default 0; a higher one has a later `updated_at`). */
  readonly version?: number;
  /** Every n-th row gets version + 1 (10 → 10 % changed). */
  readonly changedEvery?: number;
  /** For the writer: how absent rows are inserted (default `copy`). */
  readonly insertVia?: 'copy' | 'upsert';
  /** For the writer: rows per batch (default: the writer's). */
  readonly batchRows?: number;
  /** For the writer: worker threads preparing rows (the writer's `prepareThreads`; unset: its default). */
  readonly prepareThreads?: number;
  /** Child only: after setup print `ready` and wait for a line on stdin before the timed section. */
  readonly barrier?: boolean;
}

export interface MethodReport {
  readonly rows: number;
  /** Wall time of the timed section. */
  readonly seconds: number;
  /** CPU of the whole process, all threads (worker threads included), during the timed section. */
  readonly cpuSeconds: number;
  /** Start and end of the timed section, ms since the epoch (to line up concurrent children). */
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
  /** For the writer: CPU of generating the same rows (measured before the timed write, rows discarded). */
  readonly generatorCpuSeconds?: number;
  readonly result?: Omit<WriteResult, 'rejected'> & { rejected: number };
}

/** Hooks of `runMethod`. */
export interface MethodHooks {
  /** Awaited after setup, just before the timed section (a start barrier for concurrent children). */
  readonly ready?: () => Promise<void>;
}

/** The options `workItemRows` gets for `request`, the same for the timed write and the generator pass. */
function rowOptions(request: MethodRequest) {
  return {
    start: request.start ?? 0,
    ...(request.version ? { version: request.version } : {}),
    ...(request.changedEvery ? { changedEvery: request.changedEvery } : {}),
  };
}

function cpuSecondsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

/** Times `run`: wall, CPU (process-wide, so worker threads count) and epoch start/end. */
async function timed(run: () => Promise<void>) {
  const startedAtMs = performance.timeOrigin + performance.now();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSecondsSince(cpu);
  return { seconds, cpuSeconds, startedAtMs, finishedAtMs: performance.timeOrigin + performance.now() };
}

const MODEL = defaultRegistry.get('cdm.work.item');
const COLUMNS = MODEL.fields.filter((f) => !f.writerManaged).map((f) => f.name);
const TABLE = (schema: string) => qualified(schema, 'cdm_work_item');

/** The encoding a hand-written COPY loader would use: no validation, no hashing, no canonical forms. */
function plainCopyLine(row: Record<string, unknown>): string {
  let line = '';
  for (const name of COLUMNS) {
    const v = row[name];
    const text =
      v === null || v === undefined
        ? '\\N'
        : Array.isArray(v)
          ? copyEscape(arrayLiteral(v as string[]))
          : typeof v === 'object'
            ? copyEscape(JSON.stringify(v))
            : copyEscape(String(v));
    line += `${text}\t`;
  }
  return `${line}\\N\n`;
}

async function copyBaseline(client: pg.PoolClient, request: MethodRequest): Promise<void> {
  async function* chunks() {
    let chunk = '';
    for await (const row of workItemRows(request.rows, rowOptions(request))) {
      chunk += plainCopyLine(row);
      if (chunk.length >= 1 << 20) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  const columns = [...COLUMNS, '_row_hash'].map(quoteIdent).join(', ');
  await pipeline(
    Readable.from(chunks()),
    client.query(copyFrom(`COPY ${TABLE(request.schema)} (${columns}) FROM STDIN`)),
  );
}

/** Parameter values as a query builder passes them: arrays as arrays, objects JSON-encoded by pg. */
function builderValues(row: Record<string, unknown>): unknown[] {
  return COLUMNS.map((name) => {
    const v = row[name];
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : (v ?? null);
  });
}

function upsertTail(): string {
  const updates = COLUMNS.filter((c) => c !== 'cdm_id').map(
    (c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`,
  );
  return ` on conflict ("cdm_id") do update set ${updates.join(', ')}`;
}

async function rowByRow(client: pg.PoolClient, request: MethodRequest): Promise<void> {
  const placeholders = COLUMNS.map((_, i) => `$${i + 1}`).join(', ');
  const text = `insert into ${TABLE(request.schema)} (${COLUMNS.map(quoteIdent).join(', ')}) values (${placeholders})${upsertTail()}`;
  for await (const row of workItemRows(request.rows, rowOptions(request))) {
    await client.query({ name: 'bench_row_by_row', text, values: builderValues(row) });
  }
}

/** Rows per statement: Knex's `batchInsert` default, well under 65,535 / 33 columns. */
const MULTI_VALUES_CHUNK = 1000;

async function multiValues(client: pg.PoolClient, request: MethodRequest): Promise<void> {
  const head = `insert into ${TABLE(request.schema)} (${COLUMNS.map(quoteIdent).join(', ')}) values `;
  const tail = upsertTail();
  let chunk: unknown[][] = [];
  const flush = async () => {
    const values: unknown[] = [];
    const tuples = chunk.map((row) => {
      const start = values.length;
      values.push(...row);
      return `(${row.map((_, i) => `$${start + i + 1}`).join(', ')})`;
    });
    await client.query(head + tuples.join(', ') + tail, values);
    chunk = [];
  };
  for await (const row of workItemRows(request.rows, rowOptions(request))) {
    chunk.push(builderValues(row));
    if (chunk.length === MULTI_VALUES_CHUNK) await flush();
  }
  if (chunk.length > 0) await flush();
}

/** Runs one method and reports its wall time and CPU (the caller measures the rest from outside). */
export async function runMethod(request: MethodRequest, hooks: MethodHooks = {}): Promise<MethodReport> {
  if (request.method === 'writer') {
    const tuning: FromEndpointOptions = {
      ...(request.insertVia ? { insertVia: request.insertVia } : {}),
      ...(request.batchRows ? { batchRows: request.batchRows } : {}),
    };
    const { prepareThreads } = request;
    const writer = CdmSinkWriter.fromEndpoint(
      {
        templateId: 'cdm.jdbc',
        parameters: {
          connection_url: request.databaseUrl,
          schema: request.schema,
          models: ['cdm.work.item'],
        },
      },
      // Cast: `prepareThreads` (the worker pool) may not be in `WriterTuning` yet; it is only set when asked.
      (prepareThreads === undefined ? tuning : { ...tuning, prepareThreads }) as FromEndpointOptions,
    );
    try {
      await writer.assertProvisioned(['cdm.work.item']);
      // What generating the rows costs on its own: the same rows, iterated and discarded.
      const generatorCpu = process.cpuUsage();
      let generated = 0;
      for await (const _row of workItemRows(request.rows, rowOptions(request))) generated++;
      if (generated !== request.rows) throw new Error(`generated ${generated} rows, not ${request.rows}`);
      const generatorCpuSeconds = cpuSecondsSince(generatorCpu);
      await hooks.ready?.();
      let result: WriteResult | undefined;
      const times = await timed(async () => {
        result = await writer.write('cdm.work.item', workItemRows(request.rows, rowOptions(request)));
      });
      return {
        rows: request.rows,
        ...times,
        generatorCpuSeconds,
        result: { ...result!, rejected: result!.rejected.length },
      };
    } finally {
      await writer.close();
    }
  }
  const pool = new pg.Pool({ connectionString: request.databaseUrl, max: 1 });
  const client = await pool.connect();
  try {
    await hooks.ready?.();
    const times = await timed(async () => {
      if (request.method === 'copy') await copyBaseline(client, request);
      else if (request.method === 'row-by-row') await rowByRow(client, request);
      else await multiValues(client, request);
    });
    return { rows: request.rows, ...times };
  } finally {
    client.release();
    await pool.end();
  }
}
