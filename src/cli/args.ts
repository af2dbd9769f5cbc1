/** A usage error: the CLI prints it with the command's usage and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ParsedArgs {
  readonly positional: string[];
  readonly values: Map<string, string[]>;
}

/**
 * Minimal GNU-style parsing: `--name value`, `--name=value`, `-f value`, repeatable. Flags not in
 * `known` are usage errors, so a typo never silently changes what runs.
 */
export function parseArgs(
  argv: readonly string[],
  known: Readonly<Record<string, { short?: string; boolean?: boolean }>>,
): ParsedArgs {
  const byShort = new Map(
    Object.entries(known).flatMap(([name, spec]) => (spec.short ? [[spec.short, name] as const] : [])),
  );
  const values = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const [rawName, inline] = arg.startsWith('--')
      ? splitOnce(arg.slice(2))
      : [byShort.get(arg.slice(1, 2)) ?? arg, arg.length > 2 ? arg.slice(2) : undefined];
    const name = rawName;
    const spec = known[name];
    if (!spec) throw new UsageError(`unknown flag ${arg}`);
    let value = inline;
    if (value === undefined) {
      if (spec.boolean) value = 'true';
      else {
        value = argv[i + 1];
        if (value === undefined) throw new UsageError(`flag --${name} needs a value`);
        i += 1;
      }
    }
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return { positional, values };
}

function splitOnce(text: string): [string, string | undefined] {
  const at = text.indexOf('=');
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/**
 * Whether the arguments ask for `-o json`, in any spelling the parser accepts (`-o json`, `-ojson`,
 * `--output json`, `--output=json`). Read from the raw arguments, so a usage error found anywhere in
 * them can still be answered in JSON.
 */
export function asksForJson(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--') return false;
    if ((arg === '-o' || arg === '--output') && argv[i + 1] === 'json') return true;
    if (arg === '-ojson' || arg === '--output=json') return true;
  }
  return false;
}

export function single(args: ParsedArgs, name: string): string | undefined {
  const all = args.values.get(name);
  if (all && all.length > 1) throw new UsageError(`flag --${name} given more than once`);
  return all?.[0];
}
