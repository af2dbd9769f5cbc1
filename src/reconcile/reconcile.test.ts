import { describe, expect, it } from 'vitest';
import { findCondition } from '../api/conditions.js';
import type { CdmSinkProvision } from '../api/types.js';
import { validateProvision } from '../api/validate.js';
import { reconcile } from './reconcile.js';
import type { ReconcileDeps } from './types.js';

/** Deps that fail the test if the reconcile gets as far as a database: an invalid spec must not. */
const offline: ReconcileDeps = {
  resolveDatabaseUrl: () => Promise.reject(new Error('an invalid spec must not resolve a database')),
  pools: {
    get: () => {
      throw new Error('an invalid spec must not open a pool');
    },
    end: async () => {},
  },
  now: () => new Date('2025-01-01T00:00:00Z'),
};

const provision = (overrides: { apiVersion?: string; metadata?: object; spec?: object } = {}) =>
  ({
    apiVersion: overrides.apiVersion ?? 'cdm.nucleus.io/v1alpha1',
    kind: 'CdmSinkProvision',
    metadata: overrides.metadata ?? { name: 'sink', namespace: 'team', generation: 1 },
    spec: {
      endpoint: { templateId: 'cdm.jdbc', connection: { secretRef: { name: 's' } } },
      ...overrides.spec,
    },
  }) as unknown as CdmSinkProvision;

describe('reconcile of an invalid spec (the controller and the CLI share it)', () => {
  it('is UnsupportedModel only when unsupported models are the only problem', async () => {
    const outcome = await reconcile(provision({ spec: { models: ['cdm.work.sprint'] } }), offline);
    expect(outcome.error?.reason).toBe('UnsupportedModel');
    expect(findCondition(outcome.status.conditions, 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'UnsupportedModel',
    });
  });

  it('is InvalidSpec when an unsupported model comes with any other error (seven here)', async () => {
    const invalid = provision({
      apiVersion: 'cdm.nucleus.io/v1',
      metadata: { name: 'Bad_Name', namespace: 'Data', generation: 1 },
      spec: {
        endpoint: {
          templateId: 'cdm.jdbc',
          connection: { secretRef: { name: 's' } },
          schema: 'cdm; drop table x',
          tablePrefix: 'Bad-',
        },
        models: ['cdm.work.sprint'],
        modles: [],
      },
    });
    const validation = validateProvision(invalid);
    expect(validation.ok ? [] : validation.errors.map((e) => e.reason).sort()).toEqual([
      ...Array(6).fill('InvalidSpec'),
      'UnsupportedModel',
    ]);
    const outcome = await reconcile(invalid, offline);
    expect(outcome.error?.reason).toBe('InvalidSpec');
    expect(findCondition(outcome.status.conditions, 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'InvalidSpec',
    });
    expect(outcome.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'InvalidSpec' })]);
  });
});
