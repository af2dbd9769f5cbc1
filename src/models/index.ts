export { CDM_ID, TRAILING_PLUMBING } from './fields.js';
export { LOGICAL_TYPES, type LogicalTypeInfo } from './logical-types.js';
export {
  CDM_WORK_MODELS,
  createModelRegistry,
  defaultRegistry,
  type ModelRegistry,
  UnknownModelError,
} from './registry.js';
export type {
  FieldCheck,
  FieldDefault,
  FieldSpec,
  IndexKey,
  IndexSpec,
  LogicalType,
  ModelSpec,
} from './types.js';
export { STATUS_CATEGORIES } from './work-item.js';
