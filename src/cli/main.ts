import { type ParsedArgs, parseArgs, single, UsageError } from './args.js';
import { applyCommand } from './commands/apply.js';
import { planCommand } from './commands/plan.js';
import { validateCommand } from './commands/validate.js';
import { type Format, flushProcessOutput, type Output, processOutput } from './output.js';
import { readInputs } from './provision-inputs.js';

const USAGE = `Usage: cdm-sink <command> [flags]

Commands:
  validate -f PATH…                      check manifests offline (exit 0 valid, 1 invalid)
  plan     -f PATH… [--database-url URL] print what apply would do; changes nothing
  apply    -f PATH… [--database-url URL] [--catalog-url URL]
                                         reconcile every CdmSinkProvision (exit 0 when all Ready)
  controller [flags]                     run the Kubernetes controller (cdm-sink controller --help)

Flags:
  -f, --filename PATH   manifest file or folder (repeatable; multi-document YAML; other kinds ignored)
  -o, --output FORMAT   text (default) or json
  --database-url URL    sink database (else CDM_SINK_DATABASE_URL, else a matching Secret among the
                        manifests, else an embedded Postgres kept under .cdm-sink/)
  --catalog-url URL     catalog database (else CDM_CATALOG_URL, else the sink database)
`;

const FLAGS = {
  filename: { short: 'f' },
  output: { short: 'o' },
  'database-url': {},
  'catalog-url': {},
  help: { short: 'h', boolean: true },
} as const;

function format(args: ParsedArgs): Format {
  const value = single(args, 'output') ?? 'text';
  if (value !== 'text' && value !== 'json')
    throw new UsageError(`--output must be text or json, not ${JSON.stringify(value)}`);
  return value;
}

/** The `cdm-sink` entry point; returns the exit code once all output is written. */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: Output = processOutput,
  cwd = process.cwd(),
): Promise<number> {
  const code = await run(argv, env, io, cwd);
  if (io === processOutput) await flushProcessOutput();
  return code;
}

async function run(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: Output,
  cwd: string,
): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    io.out(USAGE);
    return command ? 0 : 2;
  }
  if (command === 'controller') {
    const { runControllerCommand } = await import('../controller/command.js');
    return runControllerCommand([...rest], env);
  }
  try {
    if (!['validate', 'plan', 'apply'].includes(command))
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    const args = parseArgs(rest, FLAGS);
    if (args.values.has('help')) {
      io.out(USAGE);
      return 0;
    }
    if (args.positional.length > 0)
      throw new UsageError(
        `unexpected argument ${JSON.stringify(args.positional[0])}; pass manifests with -f`,
      );
    const files = args.values.get('filename') ?? [];
    if (files.length === 0) throw new UsageError('no manifests given; pass -f PATH (a file or a folder)');
    const fmt = format(args);
    const inputs = await readInputs(files);
    if (command === 'validate') return await validateCommand(inputs, fmt, io);
    const databaseUrl = single(args, 'database-url');
    const catalogUrl = single(args, 'catalog-url');
    const options = {
      env,
      cwd,
      io,
      ...(databaseUrl ? { databaseUrl } : {}),
      ...(catalogUrl ? { catalogUrl } : {}),
    };
    return command === 'plan'
      ? await planCommand(inputs, options, fmt, io)
      : await applyCommand(inputs, options, fmt, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`cdm-sink: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}
