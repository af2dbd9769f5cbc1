import { excerpt } from './excerpt.js';
import { fieldPath } from './field-path.js';
import { isLabelKey, LABEL_KEY_RULE } from './label-key.js';
import type { SpecError } from './validate.js';

const LONE_SURROGATE = /\p{Cs}/u;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What the CRD schema cannot say about the spec's strings: label keys (a structural schema cannot
 * constrain map keys) and lone UTF-16 surrogates anywhere (no pattern expresses them in both RE2 and
 * JavaScript). Postgres refuses both when it stores the catalog row, after the tables were made.
 */
export function specStringProblems(spec: unknown): SpecError[] {
  const errors: SpecError[] = [];
  const catalog = isRecord(spec) ? spec.catalog : undefined;
  const labels = isRecord(catalog) ? catalog.labels : undefined;
  if (isRecord(labels)) {
    for (const key of Object.keys(labels)) {
      if (!isLabelKey(key))
        errors.push({
          path: fieldPath(['spec', 'catalog', 'labels', key]),
          message: `${excerpt(key)} is not a valid label key: ${LABEL_KEY_RULE}`,
          reason: 'InvalidSpec',
        });
    }
  }
  // Iterative, so no nesting depth in a manifest can overflow the stack.
  const pending: Array<{ value: unknown; path: string[] }> = [{ value: spec, path: ['spec'] }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, path } = next;
    if (typeof value === 'string') {
      const at = value.search(LONE_SURROGATE);
      if (at >= 0)
        errors.push({
          path: fieldPath(path),
          message: `contains a lone UTF-16 surrogate (\\u${value.charCodeAt(at).toString(16).toUpperCase()} at character ${at + 1}), which is not valid Unicode and Postgres cannot store: remove it, or write the whole character it was part of`,
          reason: 'InvalidSpec',
        });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => {
        pending.push({ value: item, path: [...path, String(i)] });
      });
    } else if (isRecord(value)) {
      for (const [key, item] of Object.entries(value)) pending.push({ value: item, path: [...path, key] });
    }
  }
  return errors;
}
