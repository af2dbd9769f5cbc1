import type { FieldCheck, FieldDefault, FieldSpec, LogicalType } from './types.js';

interface FieldOptions {
  readonly required?: boolean;
  readonly default?: FieldDefault;
  readonly check?: FieldCheck;
  readonly references?: string;
}

/** A model field; nullable unless `required`. */
export function field(
  name: string,
  type: LogicalType,
  description: string,
  options: FieldOptions = {},
): FieldSpec {
  return Object.freeze({
    name,
    type,
    nullable: !options.required,
    description,
    ...(options.default ? { default: options.default } : {}),
    ...(options.check ? { check: options.check } : {}),
    ...(options.references ? { references: options.references } : {}),
  });
}

/** `text[] NOT NULL DEFAULT '{}'`, the convention for every array field. */
export function stringArray(name: string, description: string): FieldSpec {
  return field(name, 'string_array', description, { required: true, default: { kind: 'emptyArray' } });
}

/** A `<role>_cdm_id` reference to another model's row; soft (no foreign key) so rows may arrive in any order. */
export function reference(name: string, model: string, description: string, required = false): FieldSpec {
  return field(name, 'string', description, { required, references: model });
}

/** `source_system`, `source_instance` and `source_<entity>_id`: where the row came from. */
export function sourceFields(entity: string, sourceLabel: string, idRequired = false): FieldSpec[] {
  return [
    field('source_system', 'string', "Source system the row was read from, e.g. 'jira'."),
    field('source_instance', 'string', 'Source instance (site host or cloud id) within the source system.'),
    field(
      `source_${entity}_id`,
      'string',
      `${sourceLabel} id in the source system (stable across renames).`,
      {
        required: idRequired,
      },
    ),
  ];
}

/** The first plumbing column of every table. */
export const CDM_ID: FieldSpec = Object.freeze({
  name: 'cdm_id',
  type: 'string',
  nullable: false,
  primaryKey: true,
  description: "Deterministic CDM id, '<source_system>:<source_instance>:<entity>:<source id>'.",
});

/** Plumbing columns every table ends with (DESIGN.md §3). */
export const TRAILING_PLUMBING: readonly FieldSpec[] = Object.freeze([
  Object.freeze<FieldSpec>({
    name: 'synced_at',
    type: 'timestamp',
    nullable: false,
    default: { kind: 'now' },
    writerManaged: true,
    description: 'When the writer last changed this row; moves only on real changes.',
  }),
  Object.freeze<FieldSpec>({
    name: 'properties',
    type: 'json_object',
    nullable: false,
    default: { kind: 'emptyObject' },
    description:
      'Source attributes without a column of their own (custom fields, raw rich text), as a JSON object.',
  }),
  Object.freeze<FieldSpec>({
    name: '_row_hash',
    type: 'string',
    nullable: true,
    writerManaged: true,
    description:
      'Plumbing: hash of the row as last written, so the writer can skip unchanged rows before sending them.',
  }),
]);

/** Wraps model fields with the plumbing columns, in table order. */
export function withPlumbing(fields: readonly FieldSpec[]): readonly FieldSpec[] {
  return Object.freeze([CDM_ID, ...fields, ...TRAILING_PLUMBING]);
}
