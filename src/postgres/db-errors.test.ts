import { describe, expect, it } from 'vitest';
import { classifyDbError } from './db-errors.js';

const classify = (error: unknown) => {
  const e = classifyDbError(error, 'observe schema s');
  return { reason: e.reason, retryable: e.retryable, message: e.message };
};

describe('classifyDbError', () => {
  it('reports a statement timeout or an administrator cancel (57014) as QueryCanceled, not LockTimeout', () => {
    expect(
      classify({ code: '57014', message: 'canceling statement due to statement timeout' }),
    ).toMatchObject({
      reason: 'QueryCanceled',
      retryable: true,
    });
    expect(classify({ code: '55P03', message: 'canceling statement due to lock timeout' })).toMatchObject({
      reason: 'LockTimeout',
      retryable: true,
    });
  });

  it('stalls on TLS failures, which no retry fixes', () => {
    for (const error of [
      Object.assign(new Error('self-signed certificate in certificate chain'), {
        code: 'SELF_SIGNED_CERT_IN_CHAIN',
      }),
      Object.assign(new Error("Hostname/IP does not match certificate's altnames"), {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      }),
      new Error('The server does not support SSL connections'),
    ]) {
      expect(classify(error)).toMatchObject({ reason: 'InvalidConnection', retryable: false });
    }
  });

  it('stalls on a malformed connection string and never quotes it', () => {
    const error = Object.assign(new TypeError('Invalid URL'), {
      code: 'ERR_INVALID_URL',
      input: 'postgres://app:hunter22@h:x/d',
    });
    const classified = classifyDbError(error, 'connect');
    expect(classified).toMatchObject({ reason: 'InvalidConnection', retryable: false });
    expect(classified.message).not.toContain('hunter22');
    expect(classified.cause).toBeUndefined();
  });

  it("tells the operator's own busy pool apart from an unreachable database", () => {
    expect(classify(new Error('timeout exceeded when trying to connect'))).toMatchObject({
      reason: 'PoolExhausted',
      retryable: true,
    });
    expect(classify(new Error('Connection terminated due to connection timeout'))).toMatchObject({
      reason: 'ConnectionFailed',
      retryable: true,
    });
  });

  it('labels SQLSTATEs as SQLSTATE and Node error codes as error codes', () => {
    expect(
      classify(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))
        .message,
    ).toMatch(/\(error code ECONNREFUSED\)$/);
    expect(classify({ code: '42P01', message: 'relation does not exist' }).message).toMatch(
      /\(SQLSTATE 42P01\)$/,
    );
  });
});
