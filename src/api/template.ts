import { CDM_WORK_MODELS } from '../models/index.js';
import type { TemplateCapabilities } from './types.js';

export const CDM_JDBC_TEMPLATE_ID = 'cdm.jdbc';

/** What the one sink template today can do (DESIGN.md §2); echoed in status. */
export const CDM_JDBC_CAPABILITIES: Readonly<TemplateCapabilities> = Object.freeze({
  supports_raw: false,
  supports_cdm_work: true,
  supported_cdm_models: CDM_WORK_MODELS.map((m) => m.id),
  'sink.autoprovision': true,
});

export const TEMPLATES: Readonly<Record<string, Readonly<TemplateCapabilities>>> = Object.freeze({
  [CDM_JDBC_TEMPLATE_ID]: CDM_JDBC_CAPABILITIES,
});
