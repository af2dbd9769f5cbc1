/**
 * Field validation errors shaped like apimachinery's `field.Error`, so the 422 bodies the fake returns read
 * exactly like the apiserver's (`spec.x: Invalid value: "y": detail`).
 */

export type FieldErrorType =
  | 'Required'
  | 'Invalid'
  | 'TypeInvalid'
  | 'NotSupported'
  | 'Forbidden'
  | 'Duplicate'
  | 'TooLong'
  | 'TooMany';

export interface FieldError {
  readonly type: FieldErrorType;
  readonly field: string;
  /** Absent for errors that omit the value (`field.OmitValueType`), as CEL rule failures on objects do. */
  readonly value?: unknown;
  readonly detail?: string;
}

export const fieldError = {
  required: (field: string, detail?: string): FieldError => ({ type: 'Required', field, detail }),
  invalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'Invalid',
    field,
    value,
    detail,
  }),
  /** Invalid without the value, as CEL rule failures on objects and arrays print. */
  invalidOmitValue: (field: string, detail: string): FieldError => ({ type: 'Invalid', field, detail }),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'TypeInvalid',
    field,
    value,
    detail,
  }),
  notSupported: (field: string, value: unknown, supported: readonly unknown[]): FieldError => ({
    type: 'NotSupported',
    field,
    value,
    detail: `supported values: ${supported.map((v) => formatValue(v)).join(', ')}`,
  }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'Forbidden', field, detail }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'Duplicate', field, value }),
  tooLong: (field: string, max: number): FieldError => ({
    type: 'TooLong',
    field,
    detail: `may not be more than ${max} bytes`,
  }),
  tooMany: (field: string, actual: number, max: number): FieldError => ({
    type: 'TooMany',
    field,
    value: actual,
    detail: `must have at most ${max} items`,
  }),
};

const TYPE_LABEL: Record<FieldErrorType, string> = {
  Required: 'Required value',
  Invalid: 'Invalid value',
  TypeInvalid: 'Invalid value',
  NotSupported: 'Unsupported value',
  Forbidden: 'Forbidden',
  Duplicate: 'Duplicate value',
  TooLong: 'Too long',
  TooMany: 'Too many',
};

const CAUSE_REASON: Record<FieldErrorType, string> = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  TypeInvalid: 'FieldValueTypeInvalid',
  NotSupported: 'FieldValueNotSupported',
  Forbidden: 'FieldValueForbidden',
  Duplicate: 'FieldValueDuplicate',
  TooLong: 'FieldValueTooLong',
  TooMany: 'FieldValueTooMany',
};

/** Go prints strings with %q, scalars bare, and everything else (nil included) as JSON. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** `field.Error.ErrorBody()`: the message without the field path, used for `details.causes[].message`. */
export function fieldErrorBody(error: FieldError): string {
  const label = TYPE_LABEL[error.type];
  const valueless = error.type === 'Required' || error.type === 'Forbidden' || error.type === 'TooLong';
  let body = valueless || !('value' in error) ? label : `${label}: ${formatValue(error.value)}`;
  if (error.detail) body += `: ${error.detail}`;
  return body;
}

export function fieldErrorString(error: FieldError): string {
  return `${error.field}: ${fieldErrorBody(error)}`;
}

export function causeReason(error: FieldError): string {
  return CAUSE_REASON[error.type];
}

/** `ErrorList.ToAggregate().Error()`: one error prints bare, several print as `[a, b]`. */
export function aggregateMessage(errors: readonly FieldError[]): string {
  const parts = errors.map(fieldErrorString);
  return parts.length === 1 ? (parts[0] ?? '') : `[${parts.join(', ')}]`;
}
