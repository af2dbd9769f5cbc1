import { describe, expect, it } from 'vitest';
import { type SpecError, validateProvision, validationReason } from './validate.js';

const base = () => ({
  apiVersion: 'cdm.nucleus.io/v1alpha1',
  kind: 'CdmSinkProvision',
  metadata: { name: 'jira-cdm', namespace: 'data-platform' },
  spec: { endpoint: { templateId: 'cdm.jdbc', connection: { secretRef: { name: 'jira-cdm-sink' } } } },
});

function errorsOf(doc: unknown) {
  const result = validateProvision(doc);
  if (result.ok) throw new Error('expected validation errors');
  return result.errors;
}

describe('validateProvision', () => {
  it('fills in every default of DESIGN.md §2', () => {
    const result = validateProvision(base());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.provision.spec).toEqual({
      endpoint: {
        templateId: 'cdm.jdbc',
        connection: { secretRef: { name: 'jira-cdm-sink', key: 'url' } },
        schema: 'cdm_work',
        tablePrefix: 'cdm_',
      },
      models: ['cdm.work.project', 'cdm.work.user', 'cdm.work.item', 'cdm.work.comment', 'cdm.work.worklog'],
      catalog: { register: true, domain: 'cdm.work' },
      policy: { lockTimeout: '5s', drift: 'Correct', adopt: false },
      deletionPolicy: 'Retain',
      suspend: false,
    });
  });

  it('names an unknown model with the supported ones and reason UnsupportedModel', () => {
    const doc = base();
    Object.assign(doc.spec, { models: ['cdm.work.item', 'cdm.work.sprint'] });
    expect(errorsOf(doc)).toEqual([
      {
        path: 'spec.models[1]',
        reason: 'UnsupportedModel',
        message: expect.stringContaining(
          'unsupported model; the cdm.jdbc template supports: "cdm.work.project"',
        ),
      },
    ]);
  });

  it('rejects a duplicate model', () => {
    const doc = base();
    Object.assign(doc.spec, { models: ['cdm.work.item', 'cdm.work.item'] });
    expect(errorsOf(doc)).toEqual([
      expect.objectContaining({
        path: 'spec.models',
        message: expect.stringContaining('"cdm.work.item" twice'),
      }),
    ]);
  });

  it('rejects a schema that is not a safe identifier', () => {
    const doc = base();
    Object.assign(doc.spec.endpoint, { schema: 'cdm; drop table x' });
    expect(errorsOf(doc)).toEqual([
      expect.objectContaining({
        path: 'spec.endpoint.schema',
        message: expect.stringContaining('"cdm; drop table x" does not match ^[a-z_][a-z0-9_]*$'),
      }),
    ]);
  });

  it('rejects a prefix that would push a generated name past 63 bytes', () => {
    const doc = base();
    Object.assign(doc.spec.endpoint, { tablePrefix: 'a_very_long_prefix_for_tables_' });
    expect(errorsOf(doc)).toEqual([
      expect.objectContaining({
        path: 'spec.endpoint.tablePrefix',
        message: expect.stringMatching(/longer than 26 characters/),
      }),
    ]);
  });

  it('requires the secretRef and rejects unknown fields and a wrong apiVersion', () => {
    const doc = base() as Record<string, unknown> & ReturnType<typeof base>;
    doc.apiVersion = 'cdm.nucleus.io/v1' as never;
    (doc.spec.endpoint.connection as Record<string, unknown>).secretRef = undefined;
    (doc.spec as Record<string, unknown>).modles = ['cdm.work.item'];
    const errors = errorsOf(JSON.parse(JSON.stringify(doc)));
    expect(errors.map((e) => e.path).sort()).toEqual([
      'apiVersion',
      'spec.endpoint.connection.secretRef',
      'spec.modles',
    ]);
    expect(errors.find((e) => e.path === 'apiVersion')?.message).toContain('use cdm.nucleus.io/v1alpha1');
    expect(errors.find((e) => e.path === 'spec.modles')?.message).toContain(
      'unknown field; valid fields here are: endpoint, models',
    );
  });
});

describe('validateProvision: catalog labels and domain', () => {
  const withCatalog = (catalog: Record<string, unknown>) => {
    const doc = base();
    Object.assign(doc.spec, { catalog });
    return doc;
  };

  it('rejects a NUL character in a label value, a label key or the domain, naming the field', () => {
    expect(errorsOf(withCatalog({ labels: { team: 'ana\u0000lytics' } }))).toEqual([
      { path: 'spec.catalog.labels.team', reason: 'InvalidSpec', message: expect.stringMatching(/NUL/) },
    ]);
    expect(errorsOf(withCatalog({ domain: 'cdm\u0000work' }))).toEqual([
      { path: 'spec.catalog.domain', reason: 'InvalidSpec', message: expect.stringMatching(/NUL/) },
    ]);
    expect(errorsOf(withCatalog({ labels: { 'te\u0000am': 'x' } }))).toEqual([
      {
        path: 'spec.catalog.labels["te\\u0000am"]',
        reason: 'InvalidSpec',
        message: expect.stringMatching(/label key.*letters, digits/),
      },
    ]);
  });

  it('rejects a lone surrogate in a label value, a label key or the domain, and accepts whole characters', () => {
    expect(errorsOf(withCatalog({ labels: { team: 'x\uD800' } }))).toEqual([
      {
        path: 'spec.catalog.labels.team',
        reason: 'InvalidSpec',
        message: expect.stringMatching(/surrogate/),
      },
    ]);
    expect(errorsOf(withCatalog({ domain: '\uDC00cdm' }))).toEqual([
      { path: 'spec.catalog.domain', reason: 'InvalidSpec', message: expect.stringMatching(/surrogate/) },
    ]);
    expect(errorsOf(withCatalog({ labels: { '\uD800': 'x' } }))).toEqual([
      expect.objectContaining({
        path: 'spec.catalog.labels["\\ud800"]',
        message: expect.stringMatching(/label key/),
      }),
    ]);
    expect(
      validateProvision(withCatalog({ domain: 'cdm.wörk 😀', labels: { team: 'ana 😀 lytics' } })).ok,
    ).toBe(true);
  });

  it('restricts label keys to Kubernetes label-key syntax: non-empty, a name of at most 63, a prefix of at most 253', () => {
    const good = ['team', 'Team_1.x-y', 'example.com/team', `${'a'.repeat(253)}/${'b'.repeat(63)}`];
    expect(validateProvision(withCatalog({ labels: Object.fromEntries(good.map((k) => [k, 'v'])) })).ok).toBe(
      true,
    );
    const bad = [
      '',
      'a'.repeat(64),
      `${'a'.repeat(254)}/team`,
      'has space',
      '-team',
      'Example.com/team',
      'a/b/c',
    ];
    const errors = errorsOf(withCatalog({ labels: Object.fromEntries(bad.map((k) => [k, 'v'])) }));
    expect(errors).toHaveLength(bad.length);
    for (const e of errors) {
      expect(e.path).toMatch(/^spec\.catalog\.labels/);
      expect(e.message).toMatch(/is not a valid label key/);
      expect(e.message.length).toBeLessThan(500);
    }
  });

  it('rejects a 50 MB label value within a second, quoting only its first characters', () => {
    const value = 'x'.repeat(50 * 1024 * 1024);
    const started = performance.now();
    const errors = errorsOf(withCatalog({ labels: { team: value } }));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(errors).toEqual([
      {
        path: 'spec.catalog.labels.team',
        reason: 'InvalidSpec',
        message: `"${'x'.repeat(64)}…" (52428800 characters) is longer than 256 characters`,
      },
    ]);
  });
});

describe('validateProvision: metadata', () => {
  const withMetadata = (metadata: Record<string, unknown>) => ({ ...base(), metadata });
  const messageOf = (doc: unknown, path: string) => errorsOf(doc).find((e) => e.path === path)?.message;

  it('says a missing name is required', () => {
    for (const metadata of [{ namespace: 'team' }, { name: '', namespace: 'team' }])
      expect(messageOf(withMetadata(metadata), 'metadata.name')).toBe(
        'is required: a lower-case DNS subdomain name such as jira-cdm',
      );
  });

  it('says a present but invalid name is invalid, quotes it, and gives the rule and an example', () => {
    const message = messageOf(withMetadata({ name: 'Bad_Name', namespace: 'team' }), 'metadata.name');
    expect(message).not.toMatch(/required/);
    expect(message).toBe(
      `is "Bad_Name", not a valid name: use at most 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, such as jira-cdm`,
    );
    expect(messageOf(withMetadata({ name: 42 }), 'metadata.name')).toMatch(/^is 42, not a valid name: /);
    const long = 'a'.repeat(254);
    expect(messageOf(withMetadata({ name: long }), 'metadata.name')).toMatch(
      /^is "a{64}…" \(254 characters\), not a valid name: use at most 253 /,
    );
    expect(validateProvision(withMetadata({ name: 'a'.repeat(253) })).ok).toBe(true);
  });

  it('checks a namespace as a DNS label, the rule Kubernetes applies to namespaces', () => {
    for (const namespace of ['Data', 'data.platform', 'a'.repeat(64), '-data'])
      expect(messageOf(withMetadata({ name: 'x', namespace }), 'metadata.namespace'), namespace).toMatch(
        /^is ".*", not a valid namespace: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit, such as data-platform$/,
      );
    expect(validateProvision(withMetadata({ name: 'x', namespace: 'a'.repeat(63) })).ok).toBe(true);
    expect(validateProvision(withMetadata({ name: 'x' })).ok).toBe(true);
  });
});

describe('validateProvision: hints', () => {
  it('gives policy.lockTimeout a duration hint, not the identifier hint', () => {
    const doc = base();
    Object.assign(doc.spec, { policy: { lockTimeout: '5 seconds' } });
    expect(errorsOf(doc)).toEqual([
      {
        path: 'spec.policy.lockTimeout',
        reason: 'InvalidSpec',
        message: expect.stringContaining('(use a whole number and ms, s or m, such as 5s)'),
      },
    ]);
  });
});

describe('validationReason', () => {
  const error = (reason: SpecError['reason']): SpecError => ({ path: 'x', message: 'm', reason });

  it('is UnsupportedModel only when every error is an unsupported model', () => {
    expect(validationReason([error('UnsupportedModel'), error('UnsupportedModel')])).toBe('UnsupportedModel');
    expect(validationReason([error('UnsupportedModel'), error('InvalidSpec')])).toBe('InvalidSpec');
    expect(validationReason([error('InvalidSpec')])).toBe('InvalidSpec');
  });
});
