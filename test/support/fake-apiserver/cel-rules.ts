/**
 * A CRD schema's `x-kubernetes-validations`, run as apiextensions-apiserver's CEL validator does
 * (`apiserver/schema/cel/validation.go`): each rule sees its node as `self`; transition rules (reading
 * `oldSelf`) run only on updates where an old value correlates; a failure names the node (`<nil>` at the
 * root) and omits the value of objects and arrays. The apiserver's ratcheting (a failure on a value the
 * update left unchanged is only a warning) is left out: rules cannot change while the fake runs, so an
 * unchanged value never newly fails.
 */
import { CelEvalError, CelProgram } from './cel.js';
import { type FieldError, fieldError } from './field-errors.js';
import { deepEqual, isObject, type JsonObject } from './json.js';
import { childPath, indexPath, type SchemaProps } from './structural-schema.js';

interface ValidationRule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
  readonly reason?: string;
  readonly fieldPath?: string;
  readonly optionalOldSelf?: boolean;
}

interface CompiledRule {
  readonly source: ValidationRule;
  readonly program: CelProgram;
  readonly messageProgram: CelProgram | undefined;
  /** `fieldPath` as child names under the rule's node. */
  readonly fieldPath: readonly string[];
}

const REASONS = ['FieldValueInvalid', 'FieldValueForbidden', 'FieldValueRequired', 'FieldValueDuplicate'];

/** The error a field path of Go's nil `*field.Path` (the resource root) prints as. */
const ROOT_FIELD = '<nil>';

function rulesOf(schema: SchemaProps): ValidationRule[] {
  const rules = schema['x-kubernetes-validations'];
  return Array.isArray(rules) ? (rules as ValidationRule[]) : [];
}

function compileRule(rule: ValidationRule): CompiledRule {
  if (rule.optionalOldSelf)
    throw new Error(`CEL rule ${rule.rule}: optionalOldSelf is outside the fake's subset`);
  if (rule.reason !== undefined && !REASONS.includes(rule.reason))
    throw new Error(`CEL rule ${rule.rule}: unknown reason ${rule.reason}`);
  const path = rule.fieldPath ?? '';
  if (path && !/^(\.[A-Za-z_][\w-]*)+$/.test(path))
    throw new Error(`CEL rule ${rule.rule}: fieldPath ${path} is outside the fake's subset`);
  return {
    source: rule,
    program: CelProgram.compile(rule.rule),
    messageProgram: rule.messageExpression ? CelProgram.compile(rule.messageExpression) : undefined,
    fieldPath: path.split('.').filter(Boolean),
  };
}

/** `ruleErrorString`: the message when there is one, the rule text otherwise. */
function ruleText(rule: ValidationRule): string {
  return rule.message?.trim() || rule.rule.trim();
}

/** Any schema node carrying rules, recursively: the apiserver builds no CEL validator otherwise. */
function hasRules(schema: SchemaProps | undefined): boolean {
  if (!schema) return false;
  if (rulesOf(schema).length > 0) return true;
  const additional = isObject(schema.additionalProperties)
    ? (schema.additionalProperties as SchemaProps)
    : undefined;
  return (
    Object.values(schema.properties ?? {}).some(hasRules) || hasRules(schema.items) || hasRules(additional)
  );
}

/** Only `x-kubernetes-list-type: map` items correlate with old items, by their keys. */
function oldListItem(schema: SchemaProps, item: unknown, old: unknown): unknown {
  if (schema['x-kubernetes-list-type'] !== 'map' || !Array.isArray(old) || !isObject(item)) return undefined;
  const keys = schema['x-kubernetes-list-map-keys'] ?? [];
  return old.find((o) => isObject(o) && keys.every((k) => deepEqual(o[k], item[k])));
}

export class CelRules {
  private readonly compiled = new Map<SchemaProps, CompiledRule[]>();

  private constructor(private readonly schema: SchemaProps) {
    this.compileAll(schema);
  }

  /** Undefined when the schema has no rules, which is also when no blocking-error notice is given. */
  static of(schema: SchemaProps): CelRules | undefined {
    return hasRules(schema) ? new CelRules(schema) : undefined;
  }

  validate(obj: JsonObject, old: JsonObject | undefined): FieldError[] {
    const errors: FieldError[] = [];
    this.visit(this.schema, obj, old, '', errors);
    return errors;
  }

  private compileAll(schema: SchemaProps): void {
    const rules = rulesOf(schema);
    if (rules.length > 0) this.compiled.set(schema, rules.map(compileRule));
    for (const child of Object.values(schema.properties ?? {})) this.compileAll(child);
    if (schema.items) this.compileAll(schema.items);
    if (isObject(schema.additionalProperties)) this.compileAll(schema.additionalProperties as SchemaProps);
  }

  /** `old` is the value this one correlates with in the stored object, if any. */
  private visit(schema: SchemaProps, value: unknown, old: unknown, path: string, errors: FieldError[]): void {
    if (value === undefined || value === null) return;
    for (const rule of this.compiled.get(schema) ?? []) this.run(rule, schema, value, old, path, errors);
    if (Array.isArray(value)) {
      const items = schema.items;
      if (!items) return;
      for (const [i, item] of value.entries()) {
        this.visit(items, item, oldListItem(schema, item, old), indexPath(path, i), errors);
      }
      return;
    }
    if (!isObject(value)) return;
    const oldMap = schema['x-kubernetes-map-type'] !== 'atomic' && isObject(old) ? old : undefined;
    const additional = isObject(schema.additionalProperties)
      ? (schema.additionalProperties as SchemaProps)
      : undefined;
    const properties = schema.properties ?? {};
    for (const [key, child] of Object.entries(value)) {
      const childSchema = Object.hasOwn(properties, key) ? properties[key] : undefined;
      if (additional) this.visit(additional, child, oldMap?.[key], `${path}[${key}]`, errors);
      else if (childSchema) this.visit(childSchema, child, oldMap?.[key], childPath(path, key), errors);
    }
  }

  private run(
    rule: CompiledRule,
    schema: SchemaProps,
    self: unknown,
    oldSelf: unknown,
    path: string,
    errors: FieldError[],
  ): void {
    if (rule.program.usesOldSelf && (oldSelf === undefined || oldSelf === null)) return;
    const vars = { self, oldSelf };
    const schemaType = String(schema.type ?? '');
    let result: unknown;
    try {
      result = rule.program.evaluate(vars);
      if (typeof result !== 'boolean') throw new CelEvalError(`rule evaluated to ${JSON.stringify(result)}`);
    } catch (error) {
      if (!(error instanceof CelEvalError)) throw error;
      const detail = `${error.message} evaluating rule: ${ruleText(rule.source)}`;
      errors.push(fieldError.invalid(path || ROOT_FIELD, schemaType, detail));
      return;
    }
    if (result) return;
    const field = rule.fieldPath.reduce(childPath, path) || ROOT_FIELD;
    errors.push(ruleFailure(rule, field, schemaType, self, this.message(rule, vars)));
  }

  /** A messageExpression that fails or yields no usable string falls back to the static message. */
  private message(rule: CompiledRule, vars: Record<string, unknown>): string {
    if (rule.messageProgram) {
      try {
        const text = rule.messageProgram.evaluate(vars);
        if (typeof text === 'string' && text.trim() && !text.includes('\n') && text.trim().length <= 5120)
          return text.trim();
      } catch (error) {
        if (!(error instanceof CelEvalError)) throw error;
      }
    }
    const { message, rule: source } = rule.source;
    return message?.trim() ? message.trim() : `failed rule: ${source.trim()}`;
  }
}

/** `fieldErrorForReason`, with the value omitted for objects and arrays. */
function ruleFailure(
  rule: CompiledRule,
  field: string,
  schemaType: string,
  self: unknown,
  detail: string,
): FieldError {
  const omitValue = schemaType === 'object' || schemaType === 'array';
  switch (rule.source.reason) {
    case 'FieldValueForbidden':
      return fieldError.forbidden(field, detail);
    case 'FieldValueRequired':
      return fieldError.required(field, detail);
    case 'FieldValueDuplicate':
      return omitValue ? { type: 'Duplicate', field } : fieldError.duplicate(field, self);
    default:
      return omitValue ? fieldError.invalidOmitValue(field, detail) : fieldError.invalid(field, self, detail);
  }
}
