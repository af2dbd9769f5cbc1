import { describe, expect, it } from 'vitest';
import { FieldSelector, LabelSelector } from './selectors.js';
import { ApiError } from './status-errors.js';

describe('LabelSelector', () => {
  const labels = { app: 'web', tier: 'frontend', version: '3' };

  it.each([
    ['', true],
    ['app=web', true],
    ['app = web', true],
    ['app==web,tier=frontend', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app in (web, api)', true],
    ['app notin (web)', false],
    ['missing notin (x)', true],
    ['missing in (x)', false],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['version>2', true],
    ['version<3', false],
    ['app=', false],
  ])('%s → %s', (selector, expected) => {
    expect(LabelSelector.parse(selector).matches(labels)).toBe(expected);
  });

  it.each(['app in web', 'app in (web', 'version>x', '=web', 'app=web,'])(
    'rejects %s with a 400',
    (selector) => {
      expect(() => LabelSelector.parse(selector)).toThrow(ApiError);
    },
  );
});

describe('FieldSelector', () => {
  const fields: Record<string, string> = { 'metadata.name': 'a,b', 'metadata.namespace': 'ns' };
  const value = (f: string) => fields[f] ?? '';

  it('matches =, == and != and unescapes commas', () => {
    const supported = ['metadata.name', 'metadata.namespace'];
    expect(FieldSelector.parse('metadata.name=a\\,b', supported).matches(value)).toBe(true);
    expect(FieldSelector.parse('metadata.namespace==ns,metadata.name!=x', supported).matches(value)).toBe(
      true,
    );
    expect(FieldSelector.parse('metadata.namespace!=ns', supported).matches(value)).toBe(false);
  });

  it('rejects unsupported fields', () => {
    expect(() => FieldSelector.parse('spec.x=1', ['metadata.name'])).toThrow(
      /field label not supported: spec.x/,
    );
  });
});
