import type { CdmSinkProvision } from '../api/types.js';
import { OperatorError } from '../errors/index.js';
import { apiStatusCode, describeApiError } from './api-errors.js';
import type { SecretClient } from './kube-ports.js';

/**
 * `ReconcileDeps.resolveDatabaseUrl` for the controller: reads `spec.endpoint.connection.secretRef`
 * from the provision's own namespace and returns the URL stored under its key.
 *
 * Errors (messages name namespace, Secret and key, never a value):
 * - the Secret or the key does not exist, or the value is empty → `SecretNotFound`, not retryable (a
 *   human must act; the periodic resync looks again);
 * - the controller may not read it (403: its RBAC lacks `get` on Secrets there) → `PermissionDenied`,
 *   not retryable for the same reason;
 * - the API call failed otherwise → `SecretNotFound`, retryable.
 */
export function createSecretResolver(
  secrets: SecretClient,
): (provision: CdmSinkProvision) => Promise<string> {
  return async (provision) => {
    const namespace = provision.metadata.namespace ?? '';
    const { name, key } = provision.spec.endpoint.connection.secretRef;
    const where = `Secret ${namespace}/${name}`;
    let secret: Awaited<ReturnType<SecretClient['read']>>;
    try {
      secret = await secrets.read(namespace, name);
    } catch (cause) {
      if (apiStatusCode(cause) === 403)
        throw new OperatorError(
          'PermissionDenied',
          `the controller may not read ${where} (${describeApiError(cause)}); grant its ServiceAccount "get" on secrets in namespace ${namespace}`,
          false,
        );
      throw new OperatorError('SecretNotFound', `could not read ${where}: ${describeApiError(cause)}`, true);
    }
    if (!secret) {
      throw new OperatorError(
        'SecretNotFound',
        `${where} (spec.endpoint.connection.secretRef) does not exist; create it with key "${key}" holding a postgresql:// URL`,
        false,
      );
    }
    const encoded = secret.data?.[key];
    const value =
      encoded !== undefined ? Buffer.from(encoded, 'base64').toString('utf8') : secret.stringData?.[key];
    if (value === undefined) {
      const keys = Object.keys({ ...secret.data, ...secret.stringData }).sort();
      throw new OperatorError(
        'SecretNotFound',
        `${where} has no key "${key}" (spec.endpoint.connection.secretRef.key); it has: ${keys.join(', ') || 'no keys'}`,
        false,
      );
    }
    if (value.trim() === '')
      throw new OperatorError('SecretNotFound', `${where} key "${key}" is empty`, false);
    return value.trim();
  };
}
