import { findCondition } from '../api/conditions.js';
import type { CdmSinkProvisionStatus } from '../api/types.js';
import type { PlanReport } from '../reconcile/index.js';
import type { RunResult } from './commands/reconcile-all.js';
import type { DatabaseSource } from './connection.js';
import type { ProvisionInput } from './provision-inputs.js';

/**
 * The one JSON document every command prints with `-o json`, success or failure (docs/cli.md). Its
 * fields never come and go: what does not apply is `null`, so a consumer can read any field of any run.
 */

export type CommandName = 'validate' | 'plan' | 'apply';

/**
 * Everything that made `ok` false. `reason` says which kind: `UsageError`, `InvalidManifest` (a file
 * that cannot be read, invalid YAML, a limit), `InvalidSpec` / `UnsupportedModel` (a provision's spec),
 * `NoProvisions`, or the reason a provision could not be planned or is not Ready (docs/reasons.md).
 */
export interface CliError {
  readonly provision: string | null;
  readonly file: string | null;
  /** 1-based document in `file`; null when the error is about the whole file or no file. */
  readonly document: number | null;
  /** Field path in the document, such as `spec.models[1]`. */
  readonly path: string | null;
  readonly reason: string;
  readonly message: string;
}

export interface Envelope<P> {
  /** null only for a usage error that names no known command. */
  readonly command: CommandName | null;
  readonly ok: boolean;
  readonly provisions: readonly P[];
  readonly errors: readonly CliError[];
}

export function cliError(fields: Partial<CliError> & Pick<CliError, 'reason' | 'message'>): CliError {
  // One key order for every error, so the JSON reads the same whatever produced it.
  return {
    provision: fields.provision ?? null,
    file: fields.file ?? null,
    document: fields.document ?? null,
    path: fields.path ?? null,
    reason: fields.reason,
    message: fields.message,
  };
}

export function envelope<P>(
  command: CommandName | null,
  provisions: readonly P[],
  errors: readonly CliError[],
): Envelope<P> {
  return { command, ok: errors.length === 0, provisions, errors };
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export interface ProvisionEntry {
  readonly id: string;
  readonly file: string;
  readonly document: number;
  readonly valid: boolean;
}

export interface PlanEntry extends ProvisionEntry {
  readonly database: DatabaseSource | null;
  readonly plan: PlanReport | null;
  readonly error: { readonly reason: string; readonly message: string } | null;
}

export interface ApplyEntry extends ProvisionEntry {
  readonly ready: boolean;
  readonly statementsApplied: number;
  readonly database: DatabaseSource | null;
  readonly status: CdmSinkProvisionStatus | null;
  readonly plan: PlanReport | null;
}

export function provisionEntry(input: ProvisionInput): ProvisionEntry {
  return {
    id: input.id,
    file: input.source.file,
    document: input.source.index,
    valid: input.errors.length === 0,
  };
}

/** Why a provision's run failed: it could not be planned (or the plan cannot be applied), or it is not Ready. */
export function runFailure(
  run: RunResult,
  command: 'plan' | 'apply',
): { reason: string; message: string } | null {
  const { outcome } = run;
  const failed = command === 'plan' ? !outcome.plan || outcome.error !== undefined : !outcome.ready;
  if (!failed) return null;
  const ready = findCondition(outcome.status.conditions, 'Ready');
  return {
    reason: outcome.error?.reason ?? ready?.reason ?? 'Unknown',
    message: ready?.message ?? outcome.error?.message ?? 'no reason given',
  };
}

/** A provision of a `plan` run; without `run` (the input had errors) nothing was planned. */
export function planEntry(input: ProvisionInput, run?: RunResult): PlanEntry {
  return {
    ...provisionEntry(input),
    database: run?.database ?? null,
    plan: run?.outcome.plan ?? null,
    error: run ? runFailure(run, 'plan') : null,
  };
}

/** A provision of an `apply` run; without `run` (the input had errors) nothing was applied. */
export function applyEntry(input: ProvisionInput, run?: RunResult): ApplyEntry {
  return {
    ...provisionEntry(input),
    ready: run?.outcome.ready ?? false,
    statementsApplied: run?.outcome.statementsApplied ?? 0,
    database: run?.database ?? null,
    status: run?.outcome.status ?? null,
    plan: run?.outcome.plan ?? null,
  };
}

/** The entry in `errors` for each provision whose run failed. */
export function runErrors(runs: readonly RunResult[], command: 'plan' | 'apply'): CliError[] {
  return runs.flatMap((run) => {
    const failure = runFailure(run, command);
    return failure
      ? [
          cliError({
            provision: run.input.id,
            file: run.input.source.file,
            document: run.input.source.index,
            ...failure,
          }),
        ]
      : [];
  });
}
