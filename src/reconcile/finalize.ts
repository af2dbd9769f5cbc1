import type pg from 'pg';
import type { CdmSinkProvision } from '../api/types.js';
import { validateProvision } from '../api/validate.js';
import { CatalogStore, sinkLocation } from '../catalog/index.js';
import { OperatorError, secretScrubber } from '../errors/index.js';
import { lockSchema, SCHEMA_UNLOCK_SQL as UNLOCK_SQL } from '../postgres/advisory-lock.js';
import { withDedicatedClient } from '../postgres/dedicated-client.js';
import {
  classifyDbError,
  commentOnTableSql,
  observeSchema,
  parseTableOwner,
  qualified,
  withoutOwnership,
} from '../postgres/index.js';
import { Action } from './action.js';
import { parseDuration } from './duration.js';
import { nextStatus, type Verdict } from './status.js';
import type { FinalizeOutcome, ReconcileDeps, ReconcileEvent } from './types.js';

/** How often a deletion blocked on a missing Secret looks again: Secrets are not watched. */
const SECRET_POLL_MS = 60_000;

interface Cleanup {
  readonly dropped: string[];
  readonly released: string[];
}

/**
 * Under the sink's advisory lock, and from what is observed under it: drops the tables whose ownership
 * line names `sinkId` with origin `created`, and releases (clears our line from the comment of) those it
 * adopted. Never by name alone.
 */
async function dropOrRelease(
  pool: pg.Pool,
  schema: string,
  sinkId: string,
  timeouts: { readonly advisoryMs: number; readonly lockMs: number },
): Promise<Cleanup> {
  return withDedicatedClient(pool, async (client, session) => {
    await lockSchema(client, schema, timeouts.advisoryMs);
    try {
      const owned = (await observeSchema(client, schema)).tables.flatMap((t) => {
        const owner = parseTableOwner(t.comment);
        return owner?.sinkId === sinkId ? [{ table: t, owner }] : [];
      });
      if (owned.length === 0) return { dropped: [], released: [] };
      const created = owned.filter((o) => o.owner.origin === 'created');
      const adopted = owned.filter((o) => o.owner.origin === 'adopted');
      await client.query('BEGIN');
      try {
        await client.query(
          `SET LOCAL lock_timeout = '${timeouts.lockMs}ms'; SET LOCAL statement_timeout = '60000ms'`,
        );
        for (const { table } of created)
          await client.query(`DROP TABLE IF EXISTS ${qualified(schema, table.name)}`);
        for (const { table } of adopted)
          await client.query(commentOnTableSql(schema, table.name, withoutOwnership(table.comment)));
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
      return {
        dropped: created.map((o) => `${schema}.${o.table.name}`),
        released: adopted.map((o) => `${schema}.${o.table.name}`),
      };
    } finally {
      await client.query(UNLOCK_SQL, [schema]).catch(() => {
        session.broken = true;
      });
    }
  });
}

function deleting(message: string, extra: Partial<Verdict> = {}): Verdict {
  return { reason: 'Deleting', message, stalled: false, reconciling: true, ...extra };
}

/**
 * Runs the provision's `deletionPolicy` before its finalizer is removed (DESIGN.md §3).
 *
 * - `Retain` keeps every table and marks the datasets deleted. It never needs the sink database to let
 *   go: without a usable Secret it marks the datasets through a separate catalog connection when one is
 *   configured, otherwise it says in an Event that it could not, and releases either way.
 * - `Delete` drops the tables this provision created, releases the ones it adopted (they are kept), and
 *   marks the datasets deleted. Without the Secret, or with `suspend: true` (no DDL at all), it does not
 *   drop anything and does not let go: status and an Event say how to unblock.
 *
 * Errors: a failure leaves `done: false` with a classified error, so the finalizer stays and the reason
 * is visible in status; transient ones are retried with backoff.
 */
export async function finalize(provision: CdmSinkProvision, deps: ReconcileDeps): Promise<FinalizeOutcome> {
  const validation = validateProvision(provision);
  const now = deps.now();
  const sinkId = `${provision.metadata.namespace ?? 'default'}/${provision.metadata.name}`;
  const finished = (message: string, events: ReconcileEvent[]): FinalizeOutcome => ({
    done: true,
    status: nextStatus(provision, deleting(message), now),
    action: Action.awaitChange(),
    events,
  });
  const waiting = (
    message: string,
    action: FinalizeOutcome['action'],
    reason: Verdict['reason'] = 'Deleting',
  ) => ({
    done: false,
    status: nextStatus(provision, deleting(message, { reason, stalled: true, reconciling: false }), now),
    action,
    events: [{ type: 'Warning' as const, reason, message }],
  });
  if (!validation.ok) {
    // Nothing valid was ever provisioned from an invalid spec.
    return finished('invalid spec: nothing to clean up', []);
  }
  const spec = validation.provision.spec;
  const markDatasets = (pool: pg.Pool) =>
    spec.catalog.register
      ? new CatalogStore(pool, deps.catalogSchema).markDeleted(sinkId)
      : Promise.resolve(0);

  if (spec.suspend && spec.deletionPolicy === 'Delete') {
    return waiting(
      'spec.suspend is true: no DDL runs, so the tables are not dropped (deletionPolicy: Delete) and the provision stays until suspend is set to false, or deletionPolicy to Retain',
      Action.awaitChange(),
      'Suspended',
    );
  }

  // Retain needs nothing of the sink: a Secret that is gone or unusable does not hold the provision.
  const releaseWithoutSink = async (why: string): Promise<FinalizeOutcome> => {
    let catalogNote: string;
    if (!spec.catalog.register) catalogNote = 'no datasets were registered';
    else if (!deps.catalogUrl)
      catalogNote = `its datasets could not be marked deleted: the catalog is the sink's own database; mark them by hand (sink_endpoint_id = '${sinkId}')`;
    else {
      try {
        catalogNote = `marked ${await markDatasets(deps.pools.get(deps.catalogUrl))} dataset(s) deleted`;
      } catch (cause) {
        catalogNote = `its datasets could not be marked deleted (${classifyDbError(cause, 'catalog').message})`;
      }
    }
    const message = `kept the tables (deletionPolicy: Retain) without connecting to the sink (${why}); ${catalogNote}`;
    return finished(message, [{ type: 'Warning', reason: 'Deleting', message }]);
  };

  let url: string;
  try {
    url = await deps.resolveDatabaseUrl(validation.provision);
    // Parsed only to fail here: an unparseable string is as unusable as a missing one.
    sinkLocation(url);
  } catch (cause) {
    const error =
      cause instanceof OperatorError
        ? cause
        : new OperatorError('SecretNotFound', String(cause), false, { cause });
    if (spec.deletionPolicy === 'Delete') {
      return waiting(
        `cannot drop the tables (deletionPolicy: Delete): ${error.message}. To unblock, restore (or fix) the Secret, or set spec.deletionPolicy: Retain to keep the tables and let the provision go`,
        Action.requeue(SECRET_POLL_MS),
      );
    }
    return releaseWithoutSink(error.message);
  }

  const scrub = secretScrubber(url);
  try {
    const pool = deps.pools.get(url);
    const cleanup =
      spec.deletionPolicy === 'Delete'
        ? await dropOrRelease(pool, spec.endpoint.schema, sinkId, {
            advisoryMs: deps.advisoryLockTimeoutMs ?? 30_000,
            lockMs: parseDuration(spec.policy.lockTimeout) ?? 5_000,
          })
        : { dropped: [], released: [] };
    const marked = await markDatasets(deps.catalogUrl ? deps.pools.get(deps.catalogUrl) : pool);
    const list = (names: string[]) => (names.length > 0 ? `: ${names.join(', ')}` : '');
    const message =
      spec.deletionPolicy === 'Delete'
        ? `dropped ${cleanup.dropped.length} table(s) it created${list(cleanup.dropped)}; released ${cleanup.released.length} adopted table(s), kept${list(cleanup.released)}; marked ${marked} dataset(s) deleted`
        : `kept the tables (deletionPolicy: Retain); marked ${marked} dataset(s) deleted`;
    return finished(message, [{ type: 'Normal', reason: 'Deleting', message }]);
  } catch (cause) {
    const error =
      cause instanceof OperatorError
        ? cause
        : classifyDbError(cause, `finalize (deletionPolicy: ${spec.deletionPolicy})`);
    if (spec.deletionPolicy === 'Retain' && !error.retryable) return releaseWithoutSink(scrub(error.message));
    const message = scrub(`cannot finalize: ${error.message}; the finalizer stays until this succeeds`);
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
