import type { CdmSinkProvision } from '../api/types.js';
import { OperatorError } from '../errors/index.js';
import type { EmbeddedServer } from '../postgres/embedded-server.js';
import { startLocalServer } from './local-server.js';
import type { ManifestDocument } from './manifests.js';

export interface ConnectionOptions {
  readonly databaseUrl?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly secrets: readonly ManifestDocument[];
  readonly cwd: string;
  /** Progress messages (stderr). */
  readonly log: (line: string) => void;
}

/**
 * Where a provision's database URL came from, as `plan` and `apply` report it (`-o json`: `database`).
 * Never the URL itself, which may carry a password.
 */
export type DatabaseSource =
  | { readonly source: 'flag' | 'env' }
  | { readonly source: 'secret'; readonly secret: string; readonly key: string }
  | { readonly source: 'embedded'; readonly secret: string; readonly key: string; readonly reason: string };

export interface ResolvedDatabase {
  readonly url: string;
  readonly database: DatabaseSource;
}

export interface Connections {
  resolve(provision: CdmSinkProvision): Promise<ResolvedDatabase>;
  /** Stops the embedded Postgres if this run started it; its data stays under `.cdm-sink/`. */
  close(): Promise<void>;
}

function secretValue(secret: Record<string, unknown>, key: string): string | undefined {
  const stringData = secret.stringData as Record<string, unknown> | undefined;
  if (typeof stringData?.[key] === 'string') return stringData[key];
  const data = secret.data as Record<string, unknown> | undefined;
  if (typeof data?.[key] === 'string') return Buffer.from(data[key], 'base64').toString('utf8');
  return undefined;
}

/**
 * Where each provision's database is, in DESIGN.md §6 order: `--database-url`, `CDM_SINK_DATABASE_URL`,
 * a Secret among the manifests matching `secretRef`, else an embedded Postgres kept under `.cdm-sink/`
 * (started on first need, shared by every provision of the run). The fallback is said out loud, per
 * provision: a Secret left out of `-f` by mistake would otherwise provision a throwaway local database
 * and still report Ready.
 */
export function connections(options: ConnectionOptions): Connections {
  const flag = options.databaseUrl;
  const env = options.env.CDM_SINK_DATABASE_URL;
  let embedded: Promise<EmbeddedServer> | undefined;
  return {
    async resolve(provision) {
      if (flag) return { url: flag, database: { source: 'flag' } };
      if (env) return { url: env, database: { source: 'env' } };
      const ref = provision.spec.endpoint.connection.secretRef;
      const namespace = provision.metadata.namespace ?? 'default';
      const secretId = `${namespace}/${ref.name}`;
      const secret = options.secrets.find((s) => {
        const meta = (s.value.metadata ?? {}) as Record<string, unknown>;
        return meta.name === ref.name && (meta.namespace ?? 'default') === namespace;
      });
      if (secret) {
        const value = secretValue(secret.value, ref.key);
        if (!value) {
          throw new OperatorError(
            'SecretNotFound',
            `Secret ${secretId} in ${secret.file} has no key "${ref.key}"; add it (a postgresql:// URL) or fix spec.endpoint.connection.secretRef.key`,
            false,
          );
        }
        return { url: value, database: { source: 'secret', secret: secretId, key: ref.key } };
      }
      const reason = `Secret ${secretId} (key ${ref.key}) is not among the manifests and no --database-url or CDM_SINK_DATABASE_URL is set: using the embedded Postgres at .cdm-sink/`;
      options.log(`${namespace}/${provision.metadata.name}: ${reason}`);
      embedded ??= startLocalServer(options.cwd, options.log);
      return {
        url: (await embedded).url,
        database: { source: 'embedded', secret: secretId, key: ref.key, reason },
      };
    },
    async close() {
      // A start that failed was already reported, as the status of each provision that needed it.
      const server = await embedded?.catch(() => undefined);
      await server?.stop();
    },
  };
}
