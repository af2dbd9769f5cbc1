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

export interface Connections {
  resolveDatabaseUrl(provision: CdmSinkProvision): Promise<string>;
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
 * (started on first need, shared by every provision of the run).
 */
export function connections(options: ConnectionOptions): Connections {
  const fixed = options.databaseUrl ?? options.env.CDM_SINK_DATABASE_URL;
  let embedded: Promise<EmbeddedServer> | undefined;
  return {
    async resolveDatabaseUrl(provision) {
      if (fixed) return fixed;
      const ref = provision.spec.endpoint.connection.secretRef;
      const namespace = provision.metadata.namespace ?? 'default';
      const secret = options.secrets.find((s) => {
        const meta = (s.value.metadata ?? {}) as Record<string, unknown>;
        return meta.name === ref.name && (meta.namespace ?? 'default') === namespace;
      });
      if (secret) {
        const value = secretValue(secret.value, ref.key);
        if (!value) {
          throw new OperatorError(
            'SecretNotFound',
            `Secret ${namespace}/${ref.name} in ${secret.file} has no key "${ref.key}"; add it (a postgresql:// URL) or fix spec.endpoint.connection.secretRef.key`,
            false,
          );
        }
        return value;
      }
      embedded ??= (async () => {
        options.log('no database URL given: using the embedded Postgres');
        return startLocalServer(options.cwd, options.log);
      })();
      return (await embedded).url;
    },
    async close() {
      if (embedded) await (await embedded).stop();
    },
  };
}
