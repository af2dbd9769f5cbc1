import type { CdmSinkProvision, DatasetStatus } from '../api/types.js';
import { validateProvision, validationReason } from '../api/validate.js';
import {
  type CatalogChange,
  CatalogStore,
  catalogChanges,
  datasetRecord,
  type SinkLocation,
  sinkLocation,
} from '../catalog/index.js';
import { OperatorError, secretScrubber } from '../errors/index.js';
import { defaultRegistry } from '../models/index.js';
import {
  applyPlan,
  classifyDbError,
  describeSession,
  desiredSchema,
  isLockTimeout,
  lockHolders,
  type ObservedSchema,
  observeSchema,
  type Plan,
  planSchema,
  type Queryable,
} from '../postgres/index.js';
import { Action } from './action.js';
import { parseDuration } from './duration.js';
import { conflictError, tableStatuses } from './plan-outcome.js';
import { planReport } from './plan-report.js';
import { provisionedBefore } from './provisioned-before.js';
import { nextStatus, type Verdict } from './status.js';
import type { ReconcileDeps, ReconcileEvent, ReconcileOptions, ReconcileOutcome } from './types.js';

const DEFAULT_RESYNC_MS = 10 * 60_000;

function failure(error: OperatorError, scrub: (t: string) => string, extra: Partial<Verdict> = {}): Verdict {
  return {
    reason: error.reason,
    message: scrub(error.message),
    stalled: !error.retryable,
    reconciling: error.retryable,
    ...extra,
  };
}

function outcomeFor(
  provision: CdmSinkProvision,
  verdict: Verdict,
  deps: ReconcileDeps,
  rest: {
    events: ReconcileEvent[];
    statements?: number;
    plan?: ReconcileOutcome['plan'];
    error?: OperatorError;
  },
): ReconcileOutcome {
  const ready = verdict.reason === 'Provisioned';
  const action = rest.error
    ? rest.error.retryable
      ? Action.requeue(1_000)
      : Action.awaitChange()
    : verdict.reason === 'Suspended'
      ? Action.awaitChange()
      : Action.requeue(deps.resyncAfterMs ?? DEFAULT_RESYNC_MS);
  return {
    status: nextStatus(provision, verdict, deps.now()),
    action,
    ready,
    statementsApplied: rest.statements ?? 0,
    events: rest.events,
    ...(rest.plan ? { plan: rest.plan } : {}),
    ...(rest.error ? { error: rest.error } : {}),
  };
}

/**
 * One level-based reconcile of one provision: validate → resolve connection → observe (schema and
 * catalog) → plan → apply → register datasets → status. The CLI, the controller and the tests all call
 * this. It never throws for expected failures: they come back as `outcome.error` (classified, with a
 * stable reason) and as conditions in `outcome.status`.
 *
 * Guarantees: an invalid spec touches nothing; a plan that conflicts with another sink's table touches
 * nothing; a reconcile that finds nothing missing runs no DDL and writes no catalog row
 * (two SQL round trips: schema and catalog).
 */
export async function reconcile(
  provision: CdmSinkProvision,
  deps: ReconcileDeps,
  options: ReconcileOptions = { mode: 'apply' },
): Promise<ReconcileOutcome> {
  const noScrub = secretScrubber(undefined);
  const validation = validateProvision(provision);
  if (!validation.ok) {
    const reason = validationReason(validation.errors);
    const error = new OperatorError(
      reason,
      validation.errors.map((e) => `${e.path}: ${e.message}`).join('; '),
      false,
    );
    return outcomeFor(provision, failure(error, noScrub), deps, {
      events: [{ type: 'Warning', reason, message: error.message }],
      error,
    });
  }
  const spec = validation.provision.spec;
  if (spec.suspend) {
    return outcomeFor(
      provision,
      {
        reason: 'Suspended',
        message: 'spec.suspend is true: no DDL runs until it is set to false',
        stalled: false,
        reconciling: false,
      },
      deps,
      { events: [] },
    );
  }

  const sinkId = `${validation.provision.metadata.namespace}/${validation.provision.metadata.name}`;
  const registry = deps.registry ?? defaultRegistry;
  const models = spec.models.map((id) => registry.get(id));
  const desired = desiredSchema(models, {
    schema: spec.endpoint.schema,
    tablePrefix: spec.endpoint.tablePrefix,
    sinkId,
  });

  let url: string;
  try {
    url = await deps.resolveDatabaseUrl(validation.provision);
  } catch (cause) {
    const error =
      cause instanceof OperatorError
        ? cause
        : new OperatorError('SecretNotFound', String(cause), false, { cause });
    return outcomeFor(
      provision,
      failure(error, noScrub, {
        connected: { ok: false, reason: error.reason, message: noScrub(error.message) },
      }),
      deps,
      {
        events: [{ type: 'Warning', reason: error.reason, message: noScrub(error.message) }],
        error,
      },
    );
  }
  const scrub = secretScrubber(url);
  const fail = (error: OperatorError, extra: Partial<Verdict> = {}, plan?: ReconcileOutcome['plan']) =>
    outcomeFor(provision, failure(error, scrub, extra), deps, {
      events: [{ type: 'Warning', reason: error.reason, message: scrub(error.message) }],
      error,
      ...(plan ? { plan } : {}),
    });
  let location: SinkLocation;
  try {
    location = sinkLocation(url);
  } catch (cause) {
    const error = classifyDbError(cause, 'parse the connection string of the sink');
    return fail(error, { connected: { ok: false, reason: error.reason, message: scrub(error.message) } });
  }
  const pool = deps.pools.get(url);
  const store = new CatalogStore(
    deps.catalogUrl ? deps.pools.get(deps.catalogUrl) : pool,
    deps.catalogSchema,
  );
  const register = spec.catalog.register;

  // The schema and the catalog are read concurrently: two round trips, one round trip of latency.
  const tableNames = desired.tables.map((t) => t.name);
  const observing = observeSchema(pool, desired.schema, tableNames);
  const reading = register ? store.readSink(sinkId) : Promise.resolve([]);
  // Awaited below; this only keeps a catalog failure from surfacing as unhandled when observing fails first.
  reading.catch(() => {});
  let observed: ObservedSchema;
  try {
    observed = await observing;
  } catch (cause) {
    const error = await observeError(pool, cause, desired.schema, tableNames);
    return fail(error, { connected: { ok: false, reason: error.reason, message: scrub(error.message) } });
  }
  const connected = {
    ok: true,
    reason: 'Connected',
    message: `connected to ${location.host}:${location.port}/${location.database}`,
  };

  let stored: Awaited<ReturnType<CatalogStore['readSink']>>;
  try {
    stored = await reading;
  } catch (cause) {
    const error = cause instanceof OperatorError ? cause : classifyDbError(cause, 'read the catalog');
    return fail(error, {
      connected,
      catalog: { ok: false, reason: 'CatalogError', message: scrub(error.message) },
    });
  }
  const policy = {
    drift: spec.policy.drift,
    adopt: spec.policy.adopt,
    previouslyProvisioned: provisionedBefore(provision, stored, desired.schema),
  };
  const plan = planSchema(desired, observed, policy);
  const records = models.map((m, i) => datasetRecord(m, desired.tables[i]!, location, spec.catalog));
  const wanted = new Set(records.map((r) => r.dataset_id));
  const orphaned = stored
    .filter((d) => d.status === 'active' && !wanted.has(d.dataset_id))
    .map((d) => d.dataset_id);
  const pendingCatalog = new Map<string, CatalogChange>(
    register
      ? [...catalogChanges(records, stored), ...orphaned.map((id) => [id, 'markDeleted'] as const)]
      : [],
  );

  const conflicted = (final: Plan, finalObserved: ObservedSchema) => {
    const error = conflictError(final);
    return error
      ? fail(
          error,
          {
            connected,
            tables: tableStatuses(final, new Set(finalObserved.tables.map((t) => t.name))),
            schema: { ok: false, reason: error.reason, message: error.message },
          },
          planReport(final, new Map()),
        )
      : undefined;
  };
  const early = conflicted(plan, observed);
  if (early) return early;

  if (options.mode === 'plan') {
    const pending = plan.steps.length + pendingCatalog.size;
    const verdict: Verdict = {
      reason: pending === 0 ? 'Provisioned' : 'Progressing',
      message:
        pending === 0
          ? 'nothing to change'
          : `${plan.steps.length} step(s) and ${pendingCatalog.size} catalog change(s) pending`,
      stalled: false,
      reconciling: pending > 0,
      connected,
    };
    return outcomeFor(provision, verdict, deps, { events: [], plan: planReport(plan, pendingCatalog) });
  }

  const lockTimeoutMs = parseDuration(spec.policy.lockTimeout) ?? 5_000;
  const applied = await applyPlan(pool, plan, {
    lockTimeoutMs,
    ...(deps.advisoryLockTimeoutMs !== undefined
      ? { advisoryLockTimeoutMs: deps.advisoryLockTimeoutMs }
      : {}),
    ...(deps.indexBuildTimeoutMs !== undefined ? { indexBuildTimeoutMs: deps.indexBuildTimeoutMs } : {}),
    ...(deps.onStep ? { onStep: deps.onStep } : {}),
  });
  // Everything below follows what was observed under the lock, never the plan made before it.
  const final = applied.plan;
  const finalObserved = applied.observed ?? observed;
  const observedNames = new Set(finalObserved.tables.map((t) => t.name));
  const late = conflicted(final, finalObserved);
  if (late) return late;

  const events: ReconcileEvent[] = [];
  if (applied.statementsExecuted > 0) {
    events.push({
      type: 'Normal',
      reason: 'Provisioned',
      message: `applied ${applied.statementsExecuted} statement(s) in ${applied.results.filter((r) => r.status === 'Success').length} step(s) to schema ${desired.schema} (plan ${applied.executed.hash.slice(0, 19)})`,
    });
  }
  const report = planReport(applied.executed, pendingCatalog);
  const lastPlan = {
    // A plan that found everything done under the lock ran nothing: the record is the empty plan.
    hash: applied.statementsExecuted > 0 || applied.error ? applied.executed.hash : final.hash,
    statements: applied.statementsExecuted,
    applied: applied.statementsExecuted > 0,
  };
  if (applied.error) {
    const failedStep = applied.results.find((r) => r.status === 'Error');
    const tables = tableStatuses(
      final,
      observedNames,
      failedStep ? applied.executed.steps.find((s) => s.target === failedStep.target)?.table : undefined,
    );
    return outcomeFor(
      provision,
      failure(applied.error, scrub, {
        connected,
        tables,
        schema: { ok: false, reason: applied.error.reason, message: scrub(applied.error.message) },
        lastPlan,
      }),
      deps,
      {
        events: [
          ...events,
          { type: 'Warning', reason: applied.error.reason, message: scrub(applied.error.message) },
        ],
        error: applied.error,
        statements: applied.statementsExecuted,
        plan: report,
      },
    );
  }
  if (applied.statementsExecuted > 0) {
    for (const f of applied.executed.findings.filter((f) => f.corrected)) {
      events.push({
        type: 'Warning',
        reason: 'Drifted',
        message: `${f.message}; re-created (drift: Correct)`,
      });
    }
  }
  const tables = tableStatuses(final, observedNames);

  // Only tables that exist are registered; the dataset of one that is gone (drift: Report) is marked
  // deleted until it is back, so the catalog never lists a table that is not there.
  const present = records.filter((r) => observedNames.has(r.table_name));
  const absent = records.filter((r) => !observedNames.has(r.table_name)).map((r) => r.dataset_id);
  let catalogError: OperatorError | undefined;
  if (register) {
    try {
      await store.register(present, stored);
      const gone = [
        ...orphaned,
        ...absent.filter((id) => stored.some((d) => d.dataset_id === id && d.status === 'active')),
      ];
      if (gone.length > 0) await store.markDeleted(sinkId, gone);
    } catch (cause) {
      catalogError =
        cause instanceof OperatorError ? cause : classifyDbError(cause, 'register catalog datasets');
    }
  }
  const datasets: DatasetStatus[] = register
    ? records.map((r) =>
        observedNames.has(r.table_name)
          ? { model: r.model_id, datasetId: r.dataset_id, registered: !catalogError }
          : {
              model: r.model_id,
              datasetId: r.dataset_id,
              registered: false,
              message: `table ${r.physical_location} is missing; the dataset is marked deleted until it is re-created`,
            },
      )
    : [];
  const residual = final.findings.filter(
    (f) => (f.severity === 'drift' || f.severity === 'blocked') && !f.corrected,
  );
  const blocked = residual.some((f) => f.severity === 'blocked');
  const unapplied = final.steps.length;
  const driftReason = blocked ? 'DestructiveChangeBlocked' : 'Drifted';
  for (const f of residual) {
    events.push({
      type: 'Warning',
      reason: f.severity === 'blocked' ? 'DestructiveChangeBlocked' : 'Drifted',
      message: f.message,
    });
  }

  const catalogCondition = register
    ? catalogError
      ? { ok: false, reason: 'CatalogError', message: scrub(catalogError.message) }
      : { ok: true, reason: 'Registered', message: `${present.length} dataset(s) registered` }
    : undefined;
  const common = {
    connected,
    tables,
    datasets,
    lastPlan,
    ...(catalogCondition ? { catalog: catalogCondition } : {}),
  };
  let verdict: Verdict;
  if (residual.length > 0 || unapplied > 0) {
    const message = `${residual.length + unapplied} difference(s) between the models and the database are not corrected: ${[...residual.map((f) => f.message), ...final.steps.map((s) => `pending: ${s.description}`)].slice(0, 5).join('; ')}`;
    verdict = {
      reason: driftReason,
      message,
      stalled: true,
      reconciling: false,
      ...common,
      schema: { ok: false, reason: driftReason, message },
    };
  } else if (catalogError) {
    verdict = {
      ...failure(catalogError, scrub),
      ...common,
      schema: { ok: true, reason: 'InSync', message: '' },
    };
    events.push({ type: 'Warning', reason: 'CatalogError', message: scrub(catalogError.message) });
  } else {
    const message = `${tables.length} table(s) in schema ${desired.schema} match their models`;
    verdict = {
      reason: 'Provisioned',
      message,
      stalled: false,
      reconciling: false,
      ...common,
      schema: { ok: true, reason: 'InSync', message },
    };
  }
  return outcomeFor(provision, verdict, deps, {
    events,
    statements: applied.statementsExecuted,
    plan: report,
    ...(catalogError ? { error: catalogError } : {}),
  });
}

/** A failed observation; a lock timeout names the table's lock holders (`pg_locks`), which the driver error does not. */
async function observeError(
  pool: Queryable,
  cause: unknown,
  schema: string,
  tables: readonly string[],
): Promise<OperatorError> {
  const context = `connect to the sink database and read schema ${schema}`;
  if (!isLockTimeout(cause)) return classifyDbError(cause, context);
  const holders = await lockHolders(pool, schema, tables, ['AccessExclusiveLock']).catch(() => []);
  const where =
    holders.length > 0 ? [...new Set(holders.map((h) => h.relation))].join(', ') : `schema ${schema}`;
  return classifyDbError(
    cause,
    `read schema ${schema}: waited too long for a lock on ${where}${
      holders.length > 0 ? ` held by ${holders.map(describeSession).join(', ')}` : ''
    }; the reconcile will retry`,
  );
}
