import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { OperatorError } from '../errors/index.js';
import { createSecretResolver } from './secret-resolver.js';
import { InMemoryKube } from './testing/in-memory-kube.js';
import { aProvision } from './testing/provision-builder.js';

const PASSWORD = 'S3cr3t-Pa55-xyz';
const provision = aProvision('jira').inNamespace('data').withSecretRef('jira-sink', 'url').build();

async function failure(promise: Promise<unknown>): Promise<OperatorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof OperatorError)) throw new Error(`expected an OperatorError, got ${String(error)}`);
  return error;
}

describe('createSecretResolver', () => {
  it('returns the URL stored under the key in the provision namespace', async () => {
    const kube = new InMemoryKube();
    kube.addSecret('data', 'jira-sink', { url: `postgres://app:${PASSWORD}@db:5432/cdm\n` });
    expect(await createSecretResolver(kube.ports.secrets)(provision)).toBe(
      `postgres://app:${PASSWORD}@db:5432/cdm`,
    );
  });

  it('reports a missing Secret as SecretNotFound, not retryable, naming namespace, name and key', async () => {
    const kube = new InMemoryKube();
    const error = await failure(createSecretResolver(kube.ports.secrets)(provision));
    expect(error).toMatchObject({ reason: 'SecretNotFound', retryable: false });
    expect(error.message).toContain('data/jira-sink');
    expect(error.message).toContain('"url"');
  });

  it('reports a Secret the controller may not read (403) as PermissionDenied, not retryable, with the fix', async () => {
    const message =
      'secrets "jira-sink" is forbidden: User "system:serviceaccount:ops:ctl" cannot get resource "secrets"';
    const forbidden = new ApiException(
      403,
      message,
      JSON.stringify({ kind: 'Status', code: 403, message }),
      {},
    );
    const error = await failure(createSecretResolver({ read: () => Promise.reject(forbidden) })(provision));
    expect(error).toMatchObject({ reason: 'PermissionDenied', retryable: false });
    expect(error.message).toContain('Secret data/jira-sink');
    expect(error.message).toContain('forbidden');
    expect(error.message).toContain('grant its ServiceAccount "get" on secrets in namespace data');
  });

  it('reports a missing key with the keys that exist but never a value', async () => {
    const kube = new InMemoryKube();
    kube.addSecret('data', 'jira-sink', { password: PASSWORD, uri: `postgres://a:${PASSWORD}@b/c` });
    const error = await failure(createSecretResolver(kube.ports.secrets)(provision));
    expect(error).toMatchObject({ reason: 'SecretNotFound', retryable: false });
    expect(error.message).toContain('password, uri');
    expect(error.message).not.toContain(PASSWORD);
  });

  it('treats a failed API call as retryable', async () => {
    const resolver = createSecretResolver({
      read: async () => {
        throw new Error('socket hang up');
      },
    });
    expect(await failure(resolver(provision))).toMatchObject({ reason: 'SecretNotFound', retryable: true });
  });
});
