/** `cdm.nucleus.io/v1alpha1` `CdmSinkProvision`, as DESIGN.md §2 fixes it. */

export const API_GROUP = 'cdm.nucleus.io';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
export const KIND = 'CdmSinkProvision';
export const PLURAL = 'cdmsinkprovisions';
export const SINGULAR = 'cdmsinkprovision';
export const SHORT_NAME = 'cdmsink';
export const FINALIZER = 'cdm.nucleus.io/finalizer';

export type DriftPolicy = 'Correct' | 'Report';
export type DeletionPolicy = 'Retain' | 'Delete';

export interface SecretKeyRef {
  name: string;
  key: string;
}

export interface CdmSinkProvisionSpec {
  endpoint: {
    templateId: 'cdm.jdbc';
    connection: { secretRef: SecretKeyRef };
    schema: string;
    tablePrefix: string;
  };
  models: string[];
  catalog: { register: boolean; domain: string; labels?: Record<string, string> };
  policy: { lockTimeout: string; drift: DriftPolicy; adopt: boolean };
  deletionPolicy: DeletionPolicy;
  suspend: boolean;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

export type TableState = 'Ready' | 'Pending' | 'Drifted' | 'Conflict' | 'Failed';

export interface TableStatus {
  model: string;
  table: string;
  state: TableState;
  schemaHash: string;
  message: string;
}

export interface DatasetStatus {
  model: string;
  datasetId: string;
  registered: boolean;
  message?: string;
}

export interface LastPlanStatus {
  hash: string;
  statements: number;
  appliedAt?: string;
}

export interface CdmSinkProvisionStatus {
  observedGeneration?: number;
  sinkEndpointId?: string;
  /** Number of models in the spec, for the `Models` printer column (JSONPath cannot count). */
  modelCount?: number;
  conditions?: Condition[];
  tables?: TableStatus[];
  datasets?: DatasetStatus[];
  lastPlan?: LastPlanStatus;
  capabilities?: TemplateCapabilities;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface CdmSinkProvision {
  apiVersion: typeof API_GROUP_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: CdmSinkProvisionSpec;
  status?: CdmSinkProvisionStatus;
}

/** What a sink template can do; echoed in status so platform code can read it without our source. */
export interface TemplateCapabilities {
  supports_raw: boolean;
  supports_cdm_work: boolean;
  supported_cdm_models: string[];
  'sink.autoprovision': boolean;
}
