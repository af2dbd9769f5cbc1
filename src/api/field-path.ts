import { EXCERPT_CHARACTERS, excerpt } from './excerpt.js';

const PLAIN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * A field path as errors show it: `spec.catalog.labels.team`, `spec.models[1]`, and a key that is not
 * a plain name quoted (and shortened) as `spec.catalog.labels["example.com/team"]`, so a key with dots,
 * control characters or megabytes of text reads as one path segment.
 */
export function fieldPath(segments: readonly (string | number)[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number' || /^\d+$/.test(segment)) path += `[${segment}]`;
    else if (segment.length <= EXCERPT_CHARACTERS && PLAIN.test(segment))
      path += path ? `.${segment}` : segment;
    else path += `[${excerpt(segment)}]`;
  }
  return path;
}

/** The segments of an Ajv `instancePath` (a JSON pointer: `/catalog/labels/a~1b`). */
export function pointerSegments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}
