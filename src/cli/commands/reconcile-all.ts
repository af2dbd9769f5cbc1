import { createPoolProvider, type ReconcileOutcome, reconcile } from '../../reconcile/index.js';
import { connections, type DatabaseSource } from '../connection.js';
import type { Output } from '../output.js';
import type { Inputs, ProvisionInput } from '../provision-inputs.js';

export interface RunOptions {
  readonly mode: 'apply' | 'plan';
  readonly databaseUrl?: string;
  readonly catalogUrl?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly io: Output;
}

export interface RunResult {
  readonly input: ProvisionInput;
  readonly outcome: ReconcileOutcome;
  /** Where its database URL came from; null when the run never got as far as resolving it. */
  readonly database: DatabaseSource | null;
}

/**
 * Runs the shared reconcile core over every provision in the manifests, one after another. Only for
 * input without errors: the caller checks it first, so bad input never reaches a database.
 */
export async function reconcileAll(inputs: Inputs, options: RunOptions): Promise<RunResult[]> {
  const conn = connections({
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    env: options.env,
    secrets: inputs.secrets,
    cwd: options.cwd,
    log: options.io.err,
  });
  const pools = createPoolProvider();
  const catalogUrl = options.catalogUrl ?? options.env.CDM_CATALOG_URL;
  const results: RunResult[] = [];
  try {
    for (const input of inputs.provisions) {
      if (options.mode === 'apply') options.io.err(`reconciling ${input.id} …`);
      let database: DatabaseSource | null = null;
      const outcome = await reconcile(
        input.raw,
        {
          resolveDatabaseUrl: async (p) => {
            const resolved = await conn.resolve(p);
            database = resolved.database;
            return resolved.url;
          },
          pools,
          now: () => new Date(),
          ...(options.mode === 'apply'
            ? {
                onStep: (s: { description: string; status: string; durationMs: number }) =>
                  options.io.err(
                    `  ${s.status === 'Success' ? 'done' : s.status.toLowerCase()}  ${s.description} (${Math.round(s.durationMs)} ms)`,
                  ),
              }
            : {}),
          ...(catalogUrl ? { catalogUrl } : {}),
        },
        { mode: options.mode },
      );
      results.push({ input, outcome, database });
    }
  } finally {
    await pools.end();
    await conn.close();
  }
  return results;
}
