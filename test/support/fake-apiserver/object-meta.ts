/** ObjectMeta validation shared by every kind (`apimachinery/pkg/api/validation/objectmeta.go`). */
import { type FieldError, fieldError } from './field-errors.js';
import { isObject, type JsonObject, stringArray } from './json.js';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const LABEL_VALUE = '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?';
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';

const subdomainRe = new RegExp(`^${DNS1123_SUBDOMAIN}$`);
const labelRe = new RegExp(`^${DNS1123_LABEL}$`);
const labelValueRe = new RegExp(`^${LABEL_VALUE}$`);
const qualifiedNameRe = new RegExp(`^${QUALIFIED_NAME}$`);

/** The ObjectMeta fields the typed decoder keeps; anything else under `metadata` is an unknown field. */
export const OBJECT_META_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

export type NameRule = 'subdomain' | 'label';

/** metav1.Time serialises with second precision. */
export function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function nameErrors(name: string, rule: NameRule): string[] {
  if (rule === 'label') {
    const errs: string[] = [];
    if (name.length > 63) errs.push('must be no more than 63 characters');
    if (!labelRe.test(name)) {
      errs.push(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end " +
          `with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '${DNS1123_LABEL}')`,
      );
    }
    return errs;
  }
  const errs: string[] = [];
  if (name.length > 253) errs.push('must be no more than 253 characters');
  if (!subdomainRe.test(name)) {
    errs.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must " +
        `start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${DNS1123_SUBDOMAIN}')`,
    );
  }
  return errs;
}

function qualifiedNameErrors(key: string): string[] {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash >= 0 ? [key.slice(0, slash), key.slice(slash + 1)] : [undefined, key];
  const errs: string[] = [];
  if (prefix !== undefined && (!prefix || !subdomainRe.test(prefix) || prefix.length > 253)) {
    errs.push('prefix part must be a lowercase RFC 1123 subdomain');
  }
  if (!name) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  else if (!qualifiedNameRe.test(name)) {
    errs.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an " +
        `alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '${QUALIFIED_NAME}')`,
    );
  }
  return errs;
}

function validateStringMap(value: unknown, field: string, checkValues: boolean): FieldError[] {
  if (value === undefined || value === null) return [];
  if (!isObject(value)) return [fieldError.invalid(field, value, 'must be a map of string to string')];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(value)) {
    for (const why of qualifiedNameErrors(k)) errs.push(fieldError.invalid(field, k, why));
    if (typeof v !== 'string') {
      errs.push(fieldError.invalid(`${field}[${k}]`, v, 'must be a string'));
    } else if (checkValues && (v.length > 63 || !labelValueRe.test(v))) {
      errs.push(
        fieldError.invalid(
          field,
          v,
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must " +
            "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used " +
            `for validation is '${LABEL_VALUE}')`,
        ),
      );
    }
  }
  return errs;
}

/** Create-time and update-time checks on `metadata`; immutability is checked separately by the lifecycle. */
export function validateObjectMeta(obj: JsonObject, nameRule: NameRule): FieldError[] {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const errs: FieldError[] = [];
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (!name) {
    errs.push(fieldError.required('metadata.name', 'name or generateName is required'));
  } else {
    for (const why of nameErrors(name, nameRule)) errs.push(fieldError.invalid('metadata.name', name, why));
  }
  errs.push(...validateStringMap(meta.labels, 'metadata.labels', true));
  errs.push(...validateStringMap(meta.annotations, 'metadata.annotations', false));
  stringArray(meta.finalizers).forEach((f, i) => {
    for (const why of qualifiedNameErrors(f))
      errs.push(fieldError.invalid(`metadata.finalizers[${i}]`, f, why));
  });
  return errs;
}
