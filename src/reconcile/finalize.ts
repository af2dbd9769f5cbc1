import type pg from 'pg';
import type { CdmSinkProvision } from '../api/types.js';
import { validateProvision } from '../api/validate.js';
import { CatalogStore } from '../catalog/index.js';
import { OperatorError, secretScrubber } from '../errors/index.js';
import { SCHEMA_LOCK_SQL as LOCK_SQL, SCHEMA_UNLOCK_SQL as UNLOCK_SQL } from '../postgres/advisory-lock.js';
import { classifyDbError, observeSchema, parseTableOwner, qualified } from '../postgres/index.js';
import { Action } from './action.js';
import { nextStatus } from './status.js';
import type { FinalizeOutcome, ReconcileDeps } from './types.js';

/** Drops every table in `schema` whose ownership comment names `sinkId`, under the sink's advisory lock. */
async function dropOwnedTables(
  pool: pg.Pool,
  schema: string,
  sinkId: string,
  lockTimeoutMs: number,
): Promise<string[]> {
  const owned = (await observeSchema(pool, schema)).tables.filter(
    (t) => parseTableOwner(t.comment)?.sinkId === sinkId,
  );
  if (owned.length === 0) return [];
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(LOCK_SQL, [schema]);
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = '${lockTimeoutMs}ms'`);
      for (const table of owned) await client.query(`DROP TABLE IF EXISTS ${qualified(schema, table.name)}`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      await client.query(UNLOCK_SQL, [schema]).catch(() => {
        broken = true;
      });
    }
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    client.release(broken);
  }
  return owned.map((t) => `${schema}.${t.name}`);
}

/**
 * Runs the provision's `deletionPolicy` before its finalizer is removed. `Retain` keeps the tables
 * and marks the datasets deleted; `Delete` drops the tables this provision owns (by the ownership line
 * in their comment, never by name alone) and then marks the datasets deleted.
 *
 * Errors: a failure leaves `done: false` with a classified error, so the finalizer stays and the
 * reason is visible in status.
 */
export async function finalize(provision: CdmSinkProvision, deps: ReconcileDeps): Promise<FinalizeOutcome> {
  const validation = validateProvision(provision);
  const now = deps.now();
  const sinkId = `${provision.metadata.namespace ?? 'default'}/${provision.metadata.name}`;
  const deleting = (message: string) => ({
    reason: 'Deleting' as const,
    message,
    stalled: false,
    reconciling: true,
  });
  if (!validation.ok) {
    // Nothing valid was ever provisioned from an invalid spec.
    return {
      done: true,
      status: nextStatus(provision, deleting('invalid spec: nothing to clean up'), now),
      action: Action.awaitChange(),
      events: [],
    };
  }
  const spec = validation.provision.spec;
  let url: string | undefined;
  try {
    url = await deps.resolveDatabaseUrl(validation.provision);
    const pool = deps.pools.get(url);
    const dropped =
      spec.deletionPolicy === 'Delete'
        ? await dropOwnedTables(pool, spec.endpoint.schema, sinkId, 30_000)
        : [];
    const marked = spec.catalog.register
      ? await new CatalogStore(
          deps.catalogUrl ? deps.pools.get(deps.catalogUrl) : pool,
          deps.catalogSchema,
        ).markDeleted(sinkId)
      : 0;
    const message =
      spec.deletionPolicy === 'Delete'
        ? `dropped ${dropped.length} table(s)${dropped.length ? `: ${dropped.join(', ')}` : ''}; marked ${marked} dataset(s) deleted`
        : `kept the tables (deletionPolicy: Retain); marked ${marked} dataset(s) deleted`;
    return {
      done: true,
      status: nextStatus(provision, deleting(message), now),
      action: Action.awaitChange(),
      events: [{ type: 'Normal', reason: 'Deleting', message }],
    };
  } catch (cause) {
    const error =
      cause instanceof OperatorError
        ? cause
        : classifyDbError(cause, `finalize (deletionPolicy: ${spec.deletionPolicy})`);
    const message = secretScrubber(url)(
      `cannot finalize: ${error.message}; the finalizer stays until this succeeds`,
    );
    return {
      done: false,
      status: nextStatus(
        provision,
        { reason: error.reason, message, stalled: !error.retryable, reconciling: error.retryable },
        now,
      ),
      action: error.retryable ? Action.requeue(1_000) : Action.awaitChange(),
      events: [{ type: 'Warning', reason: error.reason, message }],
      error,
    };
  }
}
