import type { CommandName } from './envelope.js';

/** The flags of each command: a flag a command does not use is a usage error, not silently ignored. */
const INPUT_FLAGS = {
  filename: { short: 'f' },
  output: { short: 'o' },
  help: { short: 'h', boolean: true },
} as const;
const DATABASE_FLAGS = { 'database-url': {}, 'catalog-url': {} } as const;

export const COMMAND_FLAGS = {
  validate: { ...INPUT_FLAGS, 'allow-no-provisions': { boolean: true } },
  plan: { ...INPUT_FLAGS, ...DATABASE_FLAGS },
  apply: { ...INPUT_FLAGS, ...DATABASE_FLAGS },
} as const;

export const VERSION_FLAGS = { output: { short: 'o' } } as const;

export function isCommand(name: string | undefined): name is CommandName {
  return name === 'validate' || name === 'plan' || name === 'apply';
}

const OUTPUT = `Output: results on stdout; diagnostics (input errors, progress) on stderr. With -o json, stdout
holds one JSON document, {command, ok, provisions, errors}, success or failure (docs/cli.md).`;

/** The exit codes as a command's help lists them: what 0 and 1 mean differ per command. */
const exitCodes = (success: string, failure: string) => `Exit codes:
  0   ${success}
  1   ${failure}
  2   usage error
  70  internal error`;

const INPUT_HELP = `  -f, --filename PATH   manifest file or folder, or - for standard input (repeatable; multi-document
                        YAML; kinds other than CdmSinkProvision and v1 Secret are ignored)
  -o, --output FORMAT   text (default) or json`;

const DATABASE_HELP = `  --database-url URL    sink database (else CDM_SINK_DATABASE_URL, else a matching Secret among the
                        manifests, else an embedded Postgres kept under .cdm-sink/)
  --catalog-url URL     catalog database (else CDM_CATALOG_URL, else the sink database)`;

const HELP_HELP = '  -h, --help            this help';

const GLOBAL = `Usage: cdm-sink <command> [flags]

Commands:
  validate -f PATH…   check manifests offline: file, document, field path and fix of each problem
  plan     -f PATH…   print what apply would do; changes nothing
  apply    -f PATH…   reconcile every CdmSinkProvision; succeeds when all are Ready
  controller          run the Kubernetes controller (cdm-sink controller --help)
  version             print the version (also --version; -o json)
  help [COMMAND]      this help, or a command's: its flags and examples (also COMMAND --help)

validate, plan and apply check all their input first: with any error, nothing connects to a database.

${OUTPUT}

${exitCodes(
  'success',
  'invalid input, no CdmSinkProvision, a plan that cannot be made, a provision not Ready',
)}`;

const COMMANDS: Readonly<Record<CommandName, string>> = {
  validate: `Usage: cdm-sink validate -f PATH… [--allow-no-provisions] [-o text|json]

Checks manifests offline, as the API server and the controller would, and names the file, document,
field path and fix of each problem. Connects to nothing.

Flags:
${INPUT_HELP}
  --allow-no-provisions input without any CdmSinkProvision passes (a note on stderr), e.g. in a
                        pull-request check over every changed manifest
${HELP_HELP}

Examples:
  cdm-sink validate -f manifests/examples/
  kustomize build overlays/prod | cdm-sink validate -f -
  cdm-sink validate -f sink.yaml -o json
  git diff --name-only --diff-filter=d main -- '*.yaml' | sed 's/^/-f /' | xargs -r cdm-sink validate --allow-no-provisions

${OUTPUT}

${exitCodes(
  'every provision is valid',
  'an input error, or no CdmSinkProvision in the input (unless --allow-no-provisions)',
)}`,
  plan: `Usage: cdm-sink plan -f PATH… [--database-url URL] [--catalog-url URL] [-o text|json]

Prints every statement and catalog change apply would make, per provision; changes nothing. The
input is checked first, as validate does: with any error, nothing connects to a database.

Flags:
${INPUT_HELP}
${DATABASE_HELP}
${HELP_HELP}

Examples:
  cdm-sink plan -f manifests/examples/ --database-url "$SINK_URL"
  cdm-sink plan -f sink.yaml -o json | jq -r '.provisions[].plan.steps[].sql[]'
  helm template ./chart | cdm-sink plan -f -

${OUTPUT}

${exitCodes(
  'every provision planned',
  `an input error, no CdmSinkProvision, or a provision that cannot be planned or whose
      plan cannot be applied (a conflict with a table that is not its own)`,
)}`,
  apply: `Usage: cdm-sink apply -f PATH… [--database-url URL] [--catalog-url URL] [-o text|json]

Runs the controller's reconcile once per CdmSinkProvision: creates what is missing, registers the
datasets and prints each provision's status. The input is checked first, as validate does: with any
error, nothing connects to a database.

Flags:
${INPUT_HELP}
${DATABASE_HELP}
${HELP_HELP}

Examples:
  cdm-sink apply -f manifests/examples/
  cdm-sink apply -f manifests/staging/ --database-url "$STAGING_SINK_URL" -o json > apply.json
  kustomize build overlays/prod | cdm-sink apply -f - --catalog-url "$CATALOG_URL"

${OUTPUT}

${exitCodes('every provision Ready', 'an input error, no CdmSinkProvision, or a provision not Ready')}`,
};

/** A command's usage, or the global one. */
export function usageOf(command: CommandName | null): string {
  return command ? COMMANDS[command] : GLOBAL;
}
