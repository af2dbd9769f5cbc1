import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import { redactSecrets } from '../errors/index.js';

export type { Logger } from 'pino';

export const REDACTED = '[Redacted]';

/** Keys whose values never reach a log line, at any depth (compared case-insensitively). */
const SENSITIVE_KEYS = new Set([
  'password',
  'passwd',
  'pwd',
  'url',
  'connectionstring',
  'connection_string',
  'authorization',
  'token',
  'bearertoken',
]);
/** A Secret's payload, recognised by `kind: Secret` or by sitting under a `secret` key. */
const SECRET_PAYLOAD_KEYS = new Set(['data', 'stringdata']);
const MAX_DEPTH = 8;

/**
 * A copy of `value` fit for a log line: sensitive keys censored, Secret payloads dropped, and every
 * string stripped of `scheme://user:PASSWORD@` and `password=…` (an error message may quote a URL).
 * Errors become plain objects keeping `type`, `message`, `stack`, `reason`, `retryable`, `code`, `cause`.
 */
export function redactLogValue(value: unknown, depth = 0, parentKey = ''): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[Truncated]';
  if (value instanceof Error) return redactLogValue(errorFields(value), depth + 1, parentKey);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => redactLogValue(v, depth + 1, parentKey));
  const isSecret = (value as { kind?: unknown }).kind === 'Secret' || parentKey.toLowerCase() === 'secret';
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const lower = key.toLowerCase();
    if (SENSITIVE_KEYS.has(lower) || (isSecret && SECRET_PAYLOAD_KEYS.has(lower))) out[key] = REDACTED;
    else out[key] = redactLogValue(v, depth + 1, key);
  }
  return out;
}

function errorFields(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = { type: error.name, message: error.message, stack: error.stack };
  for (const key of ['reason', 'retryable', 'code', 'statusCode'] as const) {
    if (key in error) fields[key] = (error as unknown as Record<string, unknown>)[key];
  }
  if (error.cause !== undefined) fields.cause = error.cause;
  return fields;
}

export interface LoggerOptions {
  readonly level?: Level | 'silent';
  /** Where JSON lines go (default stdout); tests pass a capturing stream. */
  readonly destination?: DestinationStream;
  readonly name?: string;
}

/**
 * The controller's pino logger: JSON lines on stdout, and redaction on every path into a line (the
 * message and format arguments through `hooks.logMethod`, the merged object through `formatters.log`,
 * child bindings through `child`), so no call site has to remember it.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const logger = pino(
    {
      name: options.name ?? 'cdm-sink-controller',
      level: options.level ?? 'info',
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redactLogValue(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          // pino takes the message of a bare Error after this hook; wrap it so that message is redacted too.
          const [first, ...rest] = args as unknown[];
          const normalized =
            first instanceof Error && rest.length === 0 ? [{ err: first }, first.message] : args;
          // The merging object (first) goes through `formatters.log`; format arguments (`%s`, `%o`) do not.
          const cleaned = normalized.map((arg: unknown, i) =>
            i === 0 && typeof arg === 'object' ? arg : redactLogValue(arg),
          );
          method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
      // `formatters.log` already turned errors into redacted plain objects; pino's serializer would rename them.
      serializers: { err: (value: unknown) => value, error: (value: unknown) => value },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
  // pino applies `formatters.bindings` to the root only; children inherit this override instead.
  const baseChild = logger.child;
  logger.child = function child(this: Logger, bindings, childOptions) {
    return baseChild.call(this, redactLogValue(bindings) as typeof bindings, childOptions);
  } as Logger['child'];
  return logger;
}

/** A logger that drops everything; the default where none is injected. */
export const silentLogger: Logger = pino({ level: 'silent' });
