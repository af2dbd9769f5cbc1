/**
 * The package's main entry: the reconcile core and its data, for platform code that embeds it.
 * Workers use `cdm-sink-operator/writer` instead.
 */
export { setCondition, setConditions } from './api/conditions.js';
export { customResourceDefinition } from './api/crd.js';
export { CDM_JDBC_CAPABILITIES, CDM_JDBC_TEMPLATE_ID } from './api/template.js';
export * from './api/types.js';
export { type SpecError, type ValidationResult, validateProvision } from './api/validate.js';
export { OperatorError, REASONS, type Reason } from './errors/index.js';
export { CDM_WORK_MODELS, createModelRegistry, defaultRegistry, type ModelSpec } from './models/index.js';
export * from './reconcile/index.js';
