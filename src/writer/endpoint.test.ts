import { describe, expect, it } from 'vitest';
import { InvalidEndpointError } from './errors.js';
import { CdmSinkWriter } from './writer.js';

const url = 'postgres://u:p@127.0.0.1:1/db';
const endpoint = (parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  templateId: 'cdm.jdbc',
  parameters: { connection_url: url, ...parameters },
  ...extra,
});

function refusal(fn: () => unknown): InvalidEndpointError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEndpointError);
    return error as InvalidEndpointError;
  }
  throw new Error('expected a refusal');
}

describe('CdmSinkWriter.fromEndpoint', () => {
  it('refuses templates other than cdm.jdbc', () => {
    const e = refusal(() => CdmSinkWriter.fromEndpoint({ templateId: 'raw.s3', parameters: {} }));
    expect(e.field).toBe('templateId');
    expect(e.message).toContain("it writes only template 'cdm.jdbc'");
  });

  it('refuses raw mode, in the endpoint or its parameters, pointing at the raw path', () => {
    for (const e of [
      refusal(() => CdmSinkWriter.fromEndpoint(endpoint({}, { mode: 'raw' }))),
      refusal(() => CdmSinkWriter.fromEndpoint(endpoint({ mode: 'raw' }))),
    ]) {
      expect(e.message).toContain('raw-mode units do not use this library: they go to their raw path');
    }
    expect(refusal(() => CdmSinkWriter.fromEndpoint(endpoint({ mode: 'mirror' }))).message).toContain(
      "serves mode 'cdm' only",
    );
  });

  it('validates schema and prefix identifiers, and the table names they produce', () => {
    expect(refusal(() => CdmSinkWriter.fromEndpoint(endpoint({ schema: 'Bad-Schema' }))).field).toBe(
      'parameters.schema',
    );
    expect(refusal(() => CdmSinkWriter.fromEndpoint(endpoint({ table_prefix: 'x"; drop' }))).field).toBe(
      'parameters.table_prefix',
    );
    expect(
      refusal(() => CdmSinkWriter.fromEndpoint(endpoint({ table_prefix: 'p'.repeat(55) }))).message,
    ).toContain('63 bytes');
  });

  it('refuses models the template does not support, naming what is allowed', () => {
    const e = refusal(() =>
      CdmSinkWriter.fromEndpoint(endpoint({ models: ['cdm.work.item', 'cdm.sales.deal'] })),
    );
    expect(e.field).toBe('parameters.models');
    expect(e.message).toContain("'cdm.sales.deal' not supported by template cdm.jdbc");
    expect(e.message).toContain('cdm.work.worklog');
  });

  it('requires a postgres connection URL unless a pool is given', () => {
    expect(refusal(() => CdmSinkWriter.fromEndpoint({ templateId: 'cdm.jdbc', parameters: {} })).field).toBe(
      'parameters.connection_url',
    );
    expect(refusal(() => CdmSinkWriter.fromEndpoint(endpoint({ connection_url: 'mysql://x' }))).field).toBe(
      'parameters.connection_url',
    );
  });

  it('refuses an sslmode node-postgres would silently read as SSL, listing the accepted ones and never echoing the URL', () => {
    const secret = 'postgres://u:s3cret@db.example:5432/sink';
    const bogus = refusal(() =>
      CdmSinkWriter.fromEndpoint(endpoint({ connection_url: `${secret}?sslmode=bogus` })),
    );
    expect(bogus.field).toBe('parameters.connection_url');
    expect(bogus.message).toBe(
      'parameters.connection_url: sslmode must be one of disable, prefer, require, verify-ca, verify-full, no-verify, not "bogus"',
    );
    // libpq semantics have no no-verify.
    const libpq = refusal(() =>
      CdmSinkWriter.fromEndpoint(
        endpoint({ connection_url: `${secret}?uselibpqcompat=true&sslmode=no-verify` }),
      ),
    );
    expect(libpq.message).toContain(
      'sslmode must be one of disable, prefer, require, verify-ca, verify-full (with uselibpqcompat=true), not "no-verify"',
    );
    // A value that is not a plain word is not repeated: a mangled URL may put anything there.
    const mangled = refusal(() =>
      CdmSinkWriter.fromEndpoint(endpoint({ connection_url: `${secret}?sslmode=x:s3cret@y` })),
    );
    for (const e of [bogus, libpq, mangled]) {
      expect(e.message).not.toContain('s3cret');
      expect(e.message).not.toContain('db.example');
    }
  });

  it('accepts every sslmode node-postgres acts on', async () => {
    for (const mode of ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify']) {
      const writer = CdmSinkWriter.fromEndpoint(endpoint({ connection_url: `${url}?sslmode=${mode}` }));
      await writer.close();
    }
    const libpq = CdmSinkWriter.fromEndpoint(
      endpoint({ connection_url: `${url}?sslmode=verify-full&uselibpqcompat=true` }),
    );
    await libpq.close();
  });

  it('applies the documented defaults', async () => {
    const writer = CdmSinkWriter.fromEndpoint(endpoint({}));
    expect(writer.layout).toMatchObject({ schema: 'cdm_work', tablePrefix: 'cdm_' });
    expect(writer.layout.models).toHaveLength(5);
    await writer.close();
  });
});
