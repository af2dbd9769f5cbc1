import { OperatorError, redactSecrets } from '../errors/index.js';

/** The fields of a node-postgres `DatabaseError` (or a socket error) we classify by. */
interface DriverError {
  code?: string;
  message?: string;
  table?: string;
  schema?: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EPIPE',
]);

function driverError(error: unknown): DriverError {
  return error && typeof error === 'object' ? (error as DriverError) : { message: String(error) };
}

/** True for a lock wait that hit `lock_timeout` (SQLSTATE 55P03). */
export function isLockTimeout(error: unknown): boolean {
  return driverError(error).code === '55P03';
}

/**
 * Maps a driver error to an `OperatorError` by SQLSTATE class, never by message text.
 * `context` says what we were doing (e.g. `observe schema cdm_work`), and goes first in the message.
 */
export function classifyDbError(error: unknown, context: string): OperatorError {
  if (error instanceof OperatorError) return error;
  const e = driverError(error);
  const code = e.code ?? '';
  const detail = redactSecrets(e.message ?? String(error));
  const message = `${context}: ${detail}${code ? ` (SQLSTATE ${code})` : ''}`;
  const options = { cause: error };
  if (code === '28P01' || code === '28000') {
    return new OperatorError(
      'AuthenticationFailed',
      `${message}; check the user and password in the connection Secret`,
      false,
      options,
    );
  }
  if (code === '42501') {
    return new OperatorError(
      'PermissionDenied',
      `${message}; grant the sink's role CREATE on the database and schema`,
      false,
      options,
    );
  }
  if (code === '55P03' || code === '57014') return new OperatorError('LockTimeout', message, true, options);
  if (
    NETWORK_CODES.has(code) ||
    code.startsWith('08') ||
    code.startsWith('57P') ||
    code === '3D000' ||
    code === '53300'
  ) {
    return new OperatorError('ConnectionFailed', message, true, options);
  }
  // Connection loss without a code ("Connection terminated unexpectedly") is still a connection fault.
  if (!code && /connect|terminat|timeout/i.test(e.message ?? '')) {
    return new OperatorError('ConnectionFailed', message, true, options);
  }
  return new OperatorError('ApplyFailed', message, true, options);
}
