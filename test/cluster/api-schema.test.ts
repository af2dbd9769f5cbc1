import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { API_GROUP, type CdmSinkProvision, PLURAL } from '../../src/api/types.js';
import { validateProvision } from '../../src/api/validate.js';
import { INVALID_CATALOG_STRINGS, INVALID_SPECS } from '../support/invalid-provisions.js';
import { ClusterEnv, installOperator } from './cluster-env.js';

interface ApiError {
  readonly code?: number;
  readonly body?: string;
}

/** The Status the API server answered with: code and message. */
function statusOf(error: unknown): { code: number | undefined; message: string } {
  const { code, body } = error as ApiError;
  let message = String(body ?? error);
  try {
    message = (JSON.parse(body ?? '') as { message: string }).message;
  } catch {}
  return { code, message };
}

describe('the API server’s view of the CRD schema', () => {
  let env: ClusterEnv;
  beforeAll(async () => {
    await installOperator();
    env = await ClusterEnv.create('schema');
  });
  afterAll(() => env?.close());

  /** A create as kubectl sends it: unknown fields are errors (fieldValidation=Strict), not dropped. */
  async function create(manifest: {
    apiVersion: string;
    metadata: object;
    [field: string]: unknown;
  }): Promise<CdmSinkProvision> {
    const version = manifest.apiVersion.split('/')[1] ?? '';
    return (await env.custom.createNamespacedCustomObject({
      group: API_GROUP,
      version,
      plural: PLURAL,
      namespace: env.namespace,
      body: { ...manifest, metadata: { ...manifest.metadata, namespace: env.namespace } },
      fieldValidation: 'Strict',
    })) as CdmSinkProvision;
  }

  for (const c of [...INVALID_SPECS, ...INVALID_CATALOG_STRINGS]) {
    it(`${c.name}: rejected like the CLI’s validate, naming ${c.path}`, async () => {
      const manifest = parse(c.yaml) as { apiVersion: string; metadata: object };
      const outcome = await create(manifest).then(
        (created) => ({ created }),
        (error: unknown) => ({ error: statusOf(error) }),
      );
      if ('accepted' in c.api) {
        expect('created' in outcome, JSON.stringify(outcome)).toBe(true);
        return;
      }
      expect('error' in outcome, `${c.name} was accepted`).toBe(true);
      const { code, message } = (outcome as { error: { code: number; message: string } }).error;
      expect({ code, message }).toEqual({
        code: c.api.code,
        message: 'field' in c.api ? expect.stringContaining(c.api.field) : expect.any(String),
      });
    });
  }

  it('a minimal provision read back carries exactly the defaults the CLI computes', async () => {
    const minimal = {
      apiVersion: 'cdm.nucleus.io/v1alpha1',
      kind: 'CdmSinkProvision',
      metadata: { name: 'minimal', namespace: env.namespace },
      spec: { endpoint: { templateId: 'cdm.jdbc', connection: { secretRef: { name: 'sink' } } } },
    };
    const cli = validateProvision(minimal);
    if (!cli.ok) throw new Error(JSON.stringify(cli.errors));
    const created = await create(minimal);
    expect(created.spec).toEqual(cli.provision.spec);
    expect((await env.provision('minimal'))?.spec).toEqual(cli.provision.spec);
  });

  it('changing spec.endpoint.schema or tablePrefix is refused by the CEL rule, with its message', async () => {
    await create({
      apiVersion: 'cdm.nucleus.io/v1alpha1',
      metadata: { name: 'immutable' },
      kind: 'CdmSinkProvision',
      spec: {
        endpoint: { templateId: 'cdm.jdbc', connection: { secretRef: { name: 'sink' } }, schema: 'one' },
      },
    });
    for (const endpoint of [{ schema: 'two' }, { tablePrefix: 'x_' }]) {
      const error = await env.patchProvision('immutable', { spec: { endpoint } }).then(
        () => undefined,
        (e: unknown) => statusOf(e),
      );
      expect(error, JSON.stringify(endpoint)).toEqual({
        code: 422,
        message: expect.stringContaining(
          'spec.endpoint.schema and spec.endpoint.tablePrefix are immutable: existing tables would be orphaned; create a new CdmSinkProvision instead',
        ),
      });
    }
    // Everything else stays changeable.
    const changed = await env.patchProvision('immutable', { spec: { models: ['cdm.work.user'] } });
    expect(changed.spec.models).toEqual(['cdm.work.user']);
    expect(changed.spec.endpoint.schema).toBe('one');
  });
});
