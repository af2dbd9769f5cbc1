import type { ModelSpec } from './types.js';
import { WORK_COMMENT } from './work-comment.js';
import { WORK_ITEM } from './work-item.js';
import { WORK_PROJECT } from './work-project.js';
import { WORK_USER } from './work-user.js';
import { WORK_WORKLOG } from './work-worklog.js';

/** The CDM work models in dependency order (referenced models first), which is also the load order. */
export const CDM_WORK_MODELS: readonly ModelSpec[] = Object.freeze([
  WORK_PROJECT,
  WORK_USER,
  WORK_ITEM,
  WORK_COMMENT,
  WORK_WORKLOG,
]);

export class UnknownModelError extends Error {
  override readonly name = 'UnknownModelError';
  readonly reason = 'UnsupportedModel';
  constructor(
    readonly modelId: string,
    readonly knownIds: readonly string[],
  ) {
    super(`unknown CDM model '${modelId}': known models are ${knownIds.join(', ')}`);
  }
}

export interface ModelRegistry {
  readonly models: readonly ModelSpec[];
  has(id: string): boolean;
  /** Throws `UnknownModelError` naming the known ids. */
  get(id: string): ModelSpec;
}

/** A registry over any model list; tests build one with a newer model version. */
export function createModelRegistry(models: readonly ModelSpec[] = CDM_WORK_MODELS): ModelRegistry {
  const byId = new Map(models.map((m) => [m.id, m]));
  return Object.freeze({
    models,
    has: (id: string) => byId.has(id),
    get(id: string): ModelSpec {
      const model = byId.get(id);
      if (!model) throw new UnknownModelError(id, [...byId.keys()]);
      return model;
    },
  });
}

export const defaultRegistry: ModelRegistry = createModelRegistry();
