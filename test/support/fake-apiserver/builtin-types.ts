/**
 * The built-in kinds a controller of this project touches: Namespace, Secret, ConfigMap, Event (core/v1 and
 * events.k8s.io/v1), Lease, and read-only CustomResourceDefinitions. Validation covers what the apiserver
 * would reject for them, not every rule of the real registry.
 */
import { type FieldError, fieldError } from './field-errors.js';
import { deepEqual, isObject, type JsonObject } from './json.js';
import { ALL_VERBS, type ResourceType } from './resource-type.js';
import { apiErrors } from './status-errors.js';

type BuiltinSpec = Pick<ResourceType, 'group' | 'version' | 'kind' | 'plural' | 'namespaced'> &
  Partial<ResourceType>;

function builtin(spec: BuiltinSpec): ResourceType {
  return {
    listKind: `${spec.kind}List`,
    singular: spec.kind.toLowerCase(),
    shortNames: [],
    categories: [],
    verbs: ALL_VERBS,
    statusSubresource: false,
    tracksGeneration: false,
    allowUnconditionalUpdate: true,
    isCustomResource: false,
    nameRule: 'subdomain',
    extraFieldLabels: [],
    ...spec,
  };
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function configKeyErrors(map: unknown, field: string): FieldError[] {
  if (!isObject(map)) return [];
  return Object.keys(map)
    .filter((key) => !CONFIG_KEY.test(key) || key.length > 253)
    .map((key) =>
      fieldError.invalid(
        field,
        key,
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or " +
          "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      ),
    );
}

/** Secrets and ConfigMaps marked `immutable` reject data changes and cannot be made mutable again. */
function immutabilityErrors(
  obj: JsonObject,
  old: JsonObject | undefined,
  dataFields: string[],
): FieldError[] {
  if (old?.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (obj.immutable !== true) {
    errs.push(fieldError.forbidden('immutable', 'field is immutable when `immutable` is set'));
  }
  for (const f of dataFields) {
    if (!deepEqual(obj[f], old[f]))
      errs.push(fieldError.forbidden(f, 'field is immutable when `immutable` is set'));
  }
  return errs;
}

function normalizeSecret(obj: JsonObject): void {
  if (obj.type === undefined || obj.type === '') obj.type = 'Opaque';
  const data = isObject(obj.data) ? obj.data : {};
  for (const [key, value] of Object.entries(data)) {
    // The typed decoder rejects non-base64 []byte before validation ever runs.
    if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value)) {
      throw apiErrors.badRequest(
        `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at key ${key}`,
      );
    }
  }
  if (isObject(obj.stringData)) {
    for (const [key, value] of Object.entries(obj.stringData)) {
      data[key] = Buffer.from(String(value), 'utf8').toString('base64');
    }
    delete obj.stringData;
  }
  if (Object.keys(data).length > 0 || obj.data !== undefined) obj.data = data;
}

function validateSecret(obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errs = [...configKeyErrors(obj.data, 'data'), ...immutabilityErrors(obj, old, ['data'])];
  if (old && old.type !== obj.type) errs.push(fieldError.invalid('type', obj.type, 'field is immutable'));
  return errs;
}

function validateConfigMap(obj: JsonObject, old: JsonObject | undefined): FieldError[] {
  const errs = [
    ...configKeyErrors(obj.data, 'data'),
    ...configKeyErrors(obj.binaryData, 'binaryData'),
    ...immutabilityErrors(obj, old, ['data', 'binaryData']),
  ];
  if (isObject(obj.data)) {
    for (const [key, value] of Object.entries(obj.data)) {
      if (typeof value !== 'string') errs.push(fieldError.invalid(`data[${key}]`, value, 'must be a string'));
    }
  }
  return errs;
}

function validateLease(obj: JsonObject): FieldError[] {
  const spec = isObject(obj.spec) ? obj.spec : {};
  const errs: FieldError[] = [];
  const duration = spec.leaseDurationSeconds;
  if (duration !== undefined && duration !== null && !(typeof duration === 'number' && duration > 0)) {
    errs.push(fieldError.invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  }
  const transitions = spec.leaseTransitions;
  if (
    transitions !== undefined &&
    transitions !== null &&
    !(typeof transitions === 'number' && transitions >= 0)
  ) {
    errs.push(fieldError.invalid('spec.leaseTransitions', transitions, 'must be greater than or equal to 0'));
  }
  return errs;
}

function objectNamespaceErrors(obj: JsonObject, refField: string): FieldError[] {
  const ref = isObject(obj[refField]) ? (obj[refField] as JsonObject) : undefined;
  const namespace = isObject(obj.metadata) ? obj.metadata.namespace : undefined;
  if (ref && typeof ref.namespace === 'string' && ref.namespace !== '' && ref.namespace !== namespace) {
    return [fieldError.invalid(`${refField}.namespace`, ref.namespace, 'does not match event.namespace')];
  }
  return [];
}

function validateCoreEvent(obj: JsonObject): FieldError[] {
  return objectNamespaceErrors(obj, 'involvedObject');
}

/** events.k8s.io/v1 requires the reporting fields that core/v1 left optional. */
function validateEventsV1Event(obj: JsonObject): FieldError[] {
  const errs = objectNamespaceErrors(obj, 'regarding');
  if (!obj.eventTime) errs.push(fieldError.required('eventTime'));
  for (const field of ['reportingController', 'reportingInstance', 'action', 'reason']) {
    const value = obj[field];
    if (typeof value !== 'string' || value === '') errs.push(fieldError.required(field));
    else if (field !== 'reportingController' && value.length > 128) errs.push(fieldError.tooLong(field, 128));
  }
  if (obj.type !== 'Normal' && obj.type !== 'Warning') {
    errs.push(fieldError.invalid('type', obj.type ?? '', `has invalid value: ${String(obj.type ?? '')}`));
  }
  if (typeof obj.note === 'string' && Buffer.byteLength(obj.note) > 1024)
    errs.push(fieldError.tooLong('note', 1024));
  return errs;
}

function normalizeNamespace(obj: JsonObject, old: JsonObject | undefined): void {
  const spec = isObject(obj.spec) ? obj.spec : {};
  if (!Array.isArray(spec.finalizers)) spec.finalizers = ['kubernetes'];
  obj.spec = spec;
  if (!old) obj.status = { phase: 'Active' };
}

const CORE_EVENT_FIELDS = [
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];

const EVENTS_V1_FIELDS = [
  'regarding.kind',
  'regarding.namespace',
  'regarding.name',
  'regarding.uid',
  'regarding.apiVersion',
  'regarding.resourceVersion',
  'regarding.fieldPath',
  'reason',
  'reportingController',
  'type',
];

export function builtinResourceTypes(): ResourceType[] {
  return [
    builtin({
      group: '',
      version: 'v1',
      kind: 'Namespace',
      plural: 'namespaces',
      namespaced: false,
      shortNames: ['ns'],
      statusSubresource: true,
      nameRule: 'label',
      extraFieldLabels: ['status.phase'],
      normalize: normalizeNamespace,
    }),
    builtin({
      group: '',
      version: 'v1',
      kind: 'Secret',
      plural: 'secrets',
      namespaced: true,
      extraFieldLabels: ['type'],
      normalize: normalizeSecret,
      validate: validateSecret,
    }),
    builtin({
      group: '',
      version: 'v1',
      kind: 'ConfigMap',
      plural: 'configmaps',
      namespaced: true,
      shortNames: ['cm'],
      validate: validateConfigMap,
    }),
    builtin({
      group: '',
      version: 'v1',
      kind: 'Event',
      plural: 'events',
      namespaced: true,
      shortNames: ['ev'],
      extraFieldLabels: CORE_EVENT_FIELDS,
      validate: validateCoreEvent,
    }),
    builtin({
      group: 'events.k8s.io',
      version: 'v1',
      kind: 'Event',
      plural: 'events',
      namespaced: true,
      shortNames: ['ev'],
      extraFieldLabels: EVENTS_V1_FIELDS,
      validate: validateEventsV1Event,
    }),
    builtin({
      group: 'coordination.k8s.io',
      version: 'v1',
      kind: 'Lease',
      plural: 'leases',
      namespaced: true,
      validate: validateLease,
    }),
    builtin({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      kind: 'CustomResourceDefinition',
      plural: 'customresourcedefinitions',
      namespaced: false,
      shortNames: ['crd', 'crds'],
      // CRDs are fixed at startup; serving writes would need live re-registration of routes.
      verbs: ['get', 'list', 'watch'],
      statusSubresource: true,
      tracksGeneration: true,
    }),
  ];
}
