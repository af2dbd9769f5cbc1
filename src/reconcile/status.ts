import { type ConditionInput, setConditions } from '../api/conditions.js';
import { CDM_JDBC_CAPABILITIES } from '../api/template.js';
import type { CdmSinkProvision, CdmSinkProvisionStatus, DatasetStatus, TableStatus } from '../api/types.js';
import type { Reason } from '../errors/index.js';

/** The summary of one reconcile that conditions are decided from. */
export interface Verdict {
  /** `Ready` when everything is in place; otherwise the reason it is not. */
  readonly reason: Reason;
  readonly message: string;
  /** Needs a human (invalid spec, missing Secret, conflict, ...): `Stalled=True`, no retry until a change. */
  readonly stalled: boolean;
  /** Work is still under way or will be retried. */
  readonly reconciling: boolean;
  readonly connected?: { readonly ok: boolean; readonly reason: string; readonly message: string };
  readonly schema?: { readonly ok: boolean; readonly reason: string; readonly message: string };
  readonly catalog?: { readonly ok: boolean; readonly reason: string; readonly message: string };
  readonly tables?: readonly TableStatus[];
  readonly datasets?: readonly DatasetStatus[];
  readonly lastPlan?: { readonly hash: string; readonly statements: number; readonly applied: boolean };
}

const bool = (ok: boolean) => (ok ? 'True' : 'False');

/**
 * Builds the next status from the previous one and a verdict (kstatus: `Ready` positive polarity,
 * `Reconciling`/`Stalled` abnormal-true). Carries over what this reconcile did not look at, and keeps
 * `lastTransitionTime` wherever a condition's status did not flip. Pure.
 */
export function nextStatus(provision: CdmSinkProvision, verdict: Verdict, now: Date): CdmSinkProvisionStatus {
  const previous = provision.status ?? {};
  const generation = provision.metadata.generation ?? 1;
  const ready = verdict.reason === 'Provisioned';
  const updates: ConditionInput[] = [
    { type: 'Ready', status: bool(ready), reason: verdict.reason, message: verdict.message },
    {
      type: 'Reconciling',
      status: bool(verdict.reconciling),
      reason: verdict.reason,
      message: verdict.reconciling ? verdict.message : '',
    },
    {
      type: 'Stalled',
      status: bool(verdict.stalled),
      reason: verdict.reason,
      message: verdict.stalled ? verdict.message : '',
    },
  ];
  if (verdict.connected)
    updates.push({
      type: 'SinkConnected',
      status: bool(verdict.connected.ok),
      reason: verdict.connected.reason,
      message: verdict.connected.message,
    });
  if (verdict.schema)
    updates.push({
      type: 'SchemaReady',
      status: bool(verdict.schema.ok),
      reason: verdict.schema.reason,
      message: verdict.schema.message,
    });
  if (verdict.catalog)
    updates.push({
      type: 'CatalogRegistered',
      status: bool(verdict.catalog.ok),
      reason: verdict.catalog.reason,
      message: verdict.catalog.message,
    });
  const { conditions } = setConditions(previous.conditions ?? [], updates, now, generation);

  // lastPlan describes the last plan that changed something; a no-op keeps it, so status stays still.
  const lastPlan =
    verdict.lastPlan && (verdict.lastPlan.applied || !previous.lastPlan)
      ? {
          hash: verdict.lastPlan.hash,
          statements: verdict.lastPlan.statements,
          ...(verdict.lastPlan.applied ? { appliedAt: now.toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
        }
      : previous.lastPlan;
  return {
    observedGeneration: generation,
    sinkEndpointId: `${provision.metadata.namespace ?? 'default'}/${provision.metadata.name}`,
    modelCount: provision.spec?.models?.length ?? 0,
    conditions,
    ...((verdict.tables ?? previous.tables)
      ? { tables: [...(verdict.tables ?? previous.tables ?? [])] }
      : {}),
    ...((verdict.datasets ?? previous.datasets)
      ? { datasets: [...(verdict.datasets ?? previous.datasets ?? [])] }
      : {}),
    ...(lastPlan ? { lastPlan } : {}),
    capabilities: {
      ...CDM_JDBC_CAPABILITIES,
      supported_cdm_models: [...CDM_JDBC_CAPABILITIES.supported_cdm_models],
    },
  };
}
