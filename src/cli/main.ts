import { asksForJson, type ParsedArgs, parseArgs, single, UsageError } from './args.js';
import { type CommandName, cliError, envelope, toJson } from './envelope.js';
import { type Format, type Output, processOutput } from './output.js';
import { STDIN_TARGET } from './stdin.js';
import { COMMAND_FLAGS, isCommand, usageOf, VERSION_FLAGS } from './usage.js';

// Each command's module is imported when it runs, so `--version`, `--help` and `validate` never load
// the database driver, the Kubernetes client or the reconcile core.

function outputFormat(args: ParsedArgs): Format {
  const value = single(args, 'output') ?? 'text';
  if (value !== 'text' && value !== 'json')
    throw new UsageError(`--output must be text or json, not ${JSON.stringify(value)}`);
  return value;
}

function noPositional(args: ParsedArgs, hint: string): void {
  if (args.positional.length > 0)
    throw new UsageError(`unexpected argument ${JSON.stringify(args.positional[0])}${hint}`);
}

interface Context {
  readonly env: NodeJS.ProcessEnv;
  readonly io: Output;
  readonly cwd: string;
  readonly stdin: () => AsyncIterable<Uint8Array | string>;
}

/**
 * The `cdm-sink` entry point; returns the exit code (`bin.ts` flushes the output, then exits):
 * 0 success, 1 failure (bad input, no provisions, a plan that cannot be made, a provision not Ready),
 * 2 usage error. A usage error prints the usage of the command it is about on stderr, and the JSON
 * envelope on stdout when the arguments ask for JSON.
 */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: Output = processOutput,
  cwd = process.cwd(),
  stdin: () => AsyncIterable<Uint8Array | string> = () => process.stdin,
): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'controller') return controller(rest, env, io);
  const command = isCommand(first) ? first : null;
  try {
    return await dispatch(first, rest, command, { env, io, cwd, stdin });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    // An argument can be a connection URL given without its flag.
    const { redactSecrets } = await import('../errors/redact.js');
    const message = redactSecrets(error.message);
    io.err(`cdm-sink: ${message}\n\n${usageOf(command)}`);
    if (asksForJson(argv))
      io.out(toJson(envelope(command, [], [cliError({ reason: 'UsageError', message })])));
    return 2;
  }
}

async function dispatch(
  first: string | undefined,
  rest: readonly string[],
  command: CommandName | null,
  context: Context,
): Promise<number> {
  if (first === undefined) throw new UsageError('no command given');
  if (first === '--help' || first === '-h') {
    context.io.out(usageOf(null));
    return 0;
  }
  if (first === 'help') return help(rest, context);
  if (first === '--version' || first === 'version') return version(rest, context.io);
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(first)}`);
  return runCommand(command, rest, context);
}

async function help(rest: readonly string[], context: Context): Promise<number> {
  const [topic, ...extra] = rest;
  if (extra.length > 0) throw new UsageError(`help takes one command, not ${rest.length}`);
  if (topic === 'controller') return controller(['--help'], context.env, context.io);
  if (topic !== undefined && !isCommand(topic))
    throw new UsageError(`unknown command ${JSON.stringify(topic)}`);
  context.io.out(usageOf(topic ?? null));
  return 0;
}

/**
 * The controller's packages (Kubernetes client, pino, prom-client, p-queue) are optional dependencies,
 * so that workers and CI jobs can install the writer and the CLI without them (`--omit=optional`).
 */
async function controller(args: readonly string[], env: NodeJS.ProcessEnv, io: Output): Promise<number> {
  let command: typeof import('../controller/command.js');
  try {
    command = await import('../controller/command.js');
  } catch (error) {
    const missing = /Cannot find (?:package|module) '([^']+)'/.exec((error as Error).message)?.[1];
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND' || !missing) throw error;
    io.err(
      `cdm-sink controller: ${missing} is not installed; the controller's packages are optional dependencies, left out by --omit=optional: install cdm-sink-operator without --omit=optional`,
    );
    return 1;
  }
  return command.runControllerCommand([...args], env);
}

async function version(rest: readonly string[], io: Output): Promise<number> {
  const args = parseArgs(rest, VERSION_FLAGS);
  noPositional(args, '');
  const format = outputFormat(args);
  const { packageVersion } = await import('./version.js');
  const value = await packageVersion();
  io.out(format === 'json' ? toJson({ version: value }) : `cdm-sink ${value}`);
  return 0;
}

async function runCommand(command: CommandName, rest: readonly string[], context: Context): Promise<number> {
  const { io } = context;
  const args = parseArgs(rest, COMMAND_FLAGS[command]);
  if (args.values.has('help')) {
    io.out(usageOf(command));
    return 0;
  }
  noPositional(args, '; pass manifests with -f');
  const files = args.values.get('filename') ?? [];
  if (files.length === 0)
    throw new UsageError('no manifests given; pass -f PATH (a file, a folder, or - for standard input)');
  if (files.filter((f) => f === STDIN_TARGET).length > 1)
    throw new UsageError('-f - (standard input) given more than once; it can be read only once');
  const format = outputFormat(args);
  const databaseUrl = single(args, 'database-url');
  const catalogUrl = single(args, 'catalog-url');

  const [{ readInputs }, { readCappedStream }] = await Promise.all([
    import('./provision-inputs.js'),
    import('./manifest-limits.js'),
  ]);
  const inputs = await readInputs(files, () => readCappedStream(context.stdin()));
  if (command === 'validate') {
    const { validateCommand } = await import('./commands/validate.js');
    return validateCommand(inputs, format, io, { allowNoProvisions: args.values.has('allow-no-provisions') });
  }
  if (inputs.errors.length > 0) {
    const { rejectInput } = await import('./input-report.js');
    return rejectInput(command, inputs, format, io);
  }
  const options = {
    env: context.env,
    cwd: context.cwd,
    io,
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(catalogUrl ? { catalogUrl } : {}),
  };
  if (command === 'plan') {
    const { planCommand } = await import('./commands/plan.js');
    return planCommand(inputs, options, format, io);
  }
  const { applyCommand } = await import('./commands/apply.js');
  return applyCommand(inputs, options, format, io);
}
