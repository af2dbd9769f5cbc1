import { OperatorError, redactSecrets } from '../errors/index.js';

/** The fields of a node-postgres `DatabaseError` (or a socket or TLS error) we classify by. */
interface DriverError {
  code?: string;
  message?: string;
  table?: string;
  schema?: string;
}

/** Socket-level failures: the server may come back, so they are retried. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** TLS failures: a certificate or a setting is wrong, which no retry fixes. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function driverError(error: unknown): DriverError {
  return error && typeof error === 'object' ? (error as DriverError) : { message: String(error) };
}

/** True for a lock wait that hit `lock_timeout` (SQLSTATE 55P03). */
export function isLockTimeout(error: unknown): boolean {
  return driverError(error).code === '55P03';
}

/** True for SQLSTATE 57014: `statement_timeout` fired, or an administrator cancelled the statement. */
export function isQueryCanceled(error: unknown): boolean {
  return driverError(error).code === '57014';
}

/** Where a code comes from, for the message: SQLSTATEs are the server's, the rest are Node's. */
function codeLabel(code: string): string {
  return /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('E') ? `SQLSTATE ${code}` : `error code ${code}`;
}

function isTlsError(e: DriverError): boolean {
  const code = e.code ?? '';
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')) return true;
  // node-postgres raises these without a code.
  return !code && /does not support SSL connections|SSL connection|certificate/i.test(e.message ?? '');
}

/**
 * Maps a driver error to an `OperatorError` by SQLSTATE class or Node error code; by message text only
 * for the few errors node-postgres raises without a code (pool wait, lost connection, no TLS).
 * `context` says what we were doing (e.g. `observe schema cdm_work`), and goes first in the message.
 *
 * The raw error is kept as `cause` only when it cannot carry the connection string: a URL parse error
 * holds its input, password included.
 */
export function classifyDbError(error: unknown, context: string): OperatorError {
  if (error instanceof OperatorError) return error;
  const e = driverError(error);
  const code = e.code ?? '';
  if (code === 'ERR_INVALID_URL' || error instanceof URIError) {
    return new OperatorError(
      'InvalidConnection',
      `${context}: the connection string is not a valid postgres:// URL or key=value string; fix the value in the connection Secret`,
      false,
    );
  }
  const detail = redactSecrets(e.message ?? String(error));
  const message = `${context}: ${detail}${code ? ` (${codeLabel(code)})` : ''}`;
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
  if (code === '55P03') return new OperatorError('LockTimeout', message, true, options);
  if (code === '57014') {
    return new OperatorError(
      'QueryCanceled',
      `${message}; a statement_timeout fired or an administrator cancelled the statement; it is retried with backoff`,
      true,
      options,
    );
  }
  if (isTlsError(e)) {
    return new OperatorError(
      'InvalidConnection',
      `${message}; fix the TLS settings (sslmode, certificates) in the connection Secret or on the server`,
      false,
      options,
    );
  }
  if (!code && /timeout exceeded when trying to connect/.test(e.message ?? '')) {
    return new OperatorError(
      'PoolExhausted',
      `${message}: every connection of the operator's pool to this database is busy (other reconciles); retried with backoff`,
      true,
      options,
    );
  }
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
