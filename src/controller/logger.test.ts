import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OperatorError } from '../errors/index.js';
import { createLogger, REDACTED } from './logger.js';

const PASSWORD = 'S3cr3t-Pa55-xyz';
const URL = `postgres://app:${PASSWORD}@db:5432/cdm`;

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

describe('createLogger', () => {
  it('never prints a connection password, whichever way it reaches the logger', () => {
    const { logger, lines } = capture();
    logger.info(`connecting to ${URL}`);
    logger.info('connecting to %s', URL);
    logger.warn(
      { err: new OperatorError('ConnectionFailed', `cannot reach ${URL}`, true, { cause: new Error(URL) }) },
      'failed',
    );
    logger.error(new Error(`boom ${URL}`));
    logger.info({ secret: { kind: 'Secret', data: { url: 'cG9zdGdyZXM=' } } }, 'read a secret');
    logger.info(
      { nested: { deeper: { password: PASSWORD, connectionString: URL, authorization: 'Bearer t' } } },
      'x',
    );
    logger.child({ sink: URL }).info('child');
    expect(lines).toHaveLength(7);
    for (const line of lines) expect(line).not.toContain(PASSWORD);
  });

  it('keeps error fields that help and censors sensitive keys at any depth', () => {
    const { logger, lines } = capture();
    logger.warn(
      { err: new OperatorError('LockTimeout', 'lock timeout', true), deep: { a: { url: URL } } },
      'm',
    );
    const line = JSON.parse(lines[0]!);
    expect(line.err).toMatchObject({
      type: 'OperatorError',
      reason: 'LockTimeout',
      retryable: true,
      message: 'lock timeout',
    });
    expect(line.deep.a.url).toBe(REDACTED);
    expect(line.level).toBe('warn');
  });
});
