import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type FakeApiServer, startFakeApiServer } from './index.js';
import {
  apiFailure,
  type Clients,
  clientsFor,
  GROUP,
  NS,
  VERSION,
  WIDGETS,
  type WidgetObject,
  widget,
  widgetCrd,
} from './test-fixtures.js';

let server: FakeApiServer;
let api: Clients;

beforeAll(async () => {
  // Loading from a YAML file exercises the path-based `crds` option.
  const dir = await mkdtemp(join(tmpdir(), 'fake-apiserver-'));
  const file = join(dir, 'widgets.yaml');
  await writeFile(
    file,
    `---\n${stringify(widgetCrd)}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ignored}\n`,
  );
  server = await startFakeApiServer({ crds: [file] });
  api = clientsFor(server);
});
afterAll(() => server.close());

const create = (body: object, fieldValidation?: string) =>
  api.custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NS,
    plural: WIDGETS,
    body,
    fieldValidation,
  });

describe('custom resource validation', () => {
  it('answers schema violations with 422 Invalid, causes and the apiserver message', async () => {
    const { code, status } = await apiFailure(
      create(widget('bad-schema', { endpoint: { host: 'h', schema: 'Bad-Name' } })),
    );
    expect(code).toBe(422);
    expect(status).toMatchObject({
      reason: 'Invalid',
      message:
        `Widget.example.test "bad-schema" is invalid: spec.endpoint.schema: Invalid value: "Bad-Name": ` +
        `spec.endpoint.schema in body should match '^[a-z_][a-z0-9_]*$'`,
      details: {
        name: 'bad-schema',
        group: GROUP,
        kind: 'Widget',
        causes: [
          {
            reason: 'FieldValueInvalid',
            field: 'spec.endpoint.schema',
            message: `Invalid value: "Bad-Name": spec.endpoint.schema in body should match '^[a-z_][a-z0-9_]*$'`,
          },
        ],
      },
    });
  });

  it('reports required, enum, type and range errors together', async () => {
    const body = { ...widget('many'), spec: { size: 'huge', replicas: 'three', endpoint: {} } };
    const { status } = await apiFailure(create(body));
    expect(status.details?.causes).toEqual(
      expect.arrayContaining([
        { reason: 'FieldValueRequired', field: 'spec.endpoint.host', message: 'Required value' },
        {
          reason: 'FieldValueNotSupported',
          field: 'spec.size',
          message: 'Unsupported value: "huge": supported values: "small", "large"',
        },
        {
          reason: 'FieldValueTypeInvalid',
          field: 'spec.replicas',
          message: 'Invalid value: "string": spec.replicas in body must be of type integer: "string"',
        },
      ]),
    );
    expect(status.message).toMatch(/^Widget\.example\.test "many" is invalid: \[.*, .*\]$/);
    const range = await apiFailure(create(widget('range', { replicas: 11 })));
    expect(range.status.details?.causes?.[0]?.message).toBe(
      'Invalid value: 11: spec.replicas in body should be less than or equal to 10',
    );
  });

  it('applies defaults, including inside nested objects', async () => {
    const created: WidgetObject = await create(widget('defaults'));
    expect(created.spec.replicas).toBe(1);
    expect(created.spec.endpoint).toEqual({ host: 'db.local', port: 5432 });
  });

  it('prunes unknown fields unless preserved, warning about them by default', async () => {
    const body = {
      ...widget('pruned', {
        bogus: true,
        endpoint: { host: 'h', extraField: 1 },
        extra: { anything: { goes: 1 } },
      }),
      topLevel: 'x',
      metadata: { name: 'pruned', namespace: NS, notAMetaField: 1 },
    };
    const created: WidgetObject & { topLevel?: string } = await create(body);
    expect(created.spec.bogus).toBeUndefined();
    expect(created.spec.endpoint).toEqual({ host: 'h', port: 5432 });
    expect(created.spec.extra).toEqual({ anything: { goes: 1 } });
    expect(created.topLevel).toBeUndefined();
    expect(created.metadata.notAMetaField).toBeUndefined();
    const res = await fetch(`${server.url}/apis/${GROUP}/${VERSION}/namespaces/${NS}/${WIDGETS}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(widget('warned', { bogus: 1 })),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('warning')).toBe('299 - "unknown field \\"spec.bogus\\""');
  });

  it('rejects unknown fields with fieldValidation=Strict', async () => {
    const { code, status } = await apiFailure(
      create(widget('strict', { foo: 1, endpoint: { host: 'h', bar: 2 } }), 'Strict'),
    );
    expect(code).toBe(400);
    expect(status.message).toBe(
      'Widget in version "v1" cannot be handled as a Widget: ' +
        'strict decoding error: unknown field "spec.endpoint.bar", unknown field "spec.foo"',
    );
  });

  it('refuses unknown fields of a Strict merge patch with 422 on the field patch, quoting the result', async () => {
    await create(widget('strict-patch'));
    const { code, status } = await apiFailure(
      api.custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: NS,
          plural: WIDGETS,
          name: 'strict-patch',
          body: { spec: { foo: 1 } },
          fieldValidation: 'Strict',
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(code).toBe(422);
    const [cause] = status.details?.causes ?? [];
    expect(status.details).toEqual({ causes: [cause] });
    expect(cause).toMatchObject({ reason: 'FieldValueInvalid', field: 'patch' });
    // Go's JSON of the patched object: keys sorted, the unknown field still in it.
    expect(cause?.message).toMatch(
      /^Invalid value: "\{\\"apiVersion\\":.*\\"spec\\":\{.*\\"foo\\":1,.*": strict decoding error: unknown field "spec\.foo"$/,
    );
    expect(status.message).toBe(` "" is invalid: patch: ${cause?.message}`);
  });

  it('enforces x-kubernetes-list-type set and map uniqueness', async () => {
    const { status } = await apiFailure(
      create(widget('lists', { tags: ['a', 'a'], models: [{ name: 'm' }, { name: 'm', table: 't' }] })),
    );
    expect(status.details?.causes).toEqual([
      { reason: 'FieldValueDuplicate', field: 'spec.tags[1]', message: 'Duplicate value: "a"' },
      { reason: 'FieldValueDuplicate', field: 'spec.models[1]', message: 'Duplicate value: {"name":"m"}' },
    ]);
  });

  it('understands int-or-string and nullable', async () => {
    const asInt: WidgetObject = await create(widget('ios-int', { timeout: 30, note: null }));
    expect(asInt.spec.timeout).toBe(30);
    expect(asInt.spec.note).toBeNull();
    await create(widget('ios-str', { timeout: '30s' }));
    const { status } = await apiFailure(create(widget('ios-bool', { timeout: true })));
    expect(status.details?.causes?.[0]?.field).toBe('spec.timeout');
  });

  it('validates the object name as a DNS-1123 subdomain', async () => {
    const { code, status } = await apiFailure(
      create({ ...widget('x'), metadata: { name: 'Not_Valid', namespace: NS } }),
    );
    expect(code).toBe(422);
    expect(status.details?.causes?.[0]).toMatchObject({
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
    });
    expect(status.message).toContain('a lowercase RFC 1123 subdomain must consist of');
  });

  it('requires a name or generateName', async () => {
    const { status } = await apiFailure(create({ ...widget('x'), metadata: { namespace: NS } }));
    expect(status.details?.causes?.[0]).toEqual({
      reason: 'FieldValueRequired',
      field: 'metadata.name',
      message: 'Required value: name or generateName is required',
    });
  });
});
