import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP_VERSION, KIND } from '../../src/api/types.js';
import { aSinkProvision, ControllerEnv, condition, eventually, NAMESPACE } from './controller-env.js';

/** `kubectl delete` (of a provision, a namespace, a kustomization) never hangs silently on a missing Secret. */
describe('controller deletion without the Secret', () => {
  let env: ControllerEnv;
  beforeAll(async () => {
    env = await ControllerEnv.create();
    await env.start('solo');
  });
  afterAll(async () => {
    await env?.close();
  });

  it('lets a Retain provision go when its Secret is already gone', async () => {
    env.secret('gone-sink', env.db.url);
    env.createProvision(aSinkProvision('gone', { schema: 'cdm_gone', deletionPolicy: 'Retain' }));
    await env.waitReady('gone');
    env.api.delete('v1', 'Secret', NAMESPACE, 'gone-sink');
    env.api.delete(API_GROUP_VERSION, KIND, NAMESPACE, 'gone');
    await eventually('the object gone', () => env.provision('gone') === undefined);
    expect(await env.tables('cdm_gone')).toEqual(['cdm_work_project']);
    expect(env.events('gone')).toContainEqual(
      expect.objectContaining({
        type: 'Warning',
        reason: 'Deleting',
        message: expect.stringMatching(/without connecting to the sink/),
      }),
    );
  });

  it('holds a Delete provision with a status and an Event that say how to unblock, and lets go after a switch to Retain', async () => {
    env.secret('held-sink', env.db.url);
    env.createProvision(aSinkProvision('held', { schema: 'cdm_held', deletionPolicy: 'Delete' }));
    await env.waitReady('held');
    env.api.delete('v1', 'Secret', NAMESPACE, 'held-sink');
    env.api.delete(API_GROUP_VERSION, KIND, NAMESPACE, 'held');
    const held = await eventually('Deleting reported', () => {
      const p = env.provision('held');
      return p?.metadata.deletionTimestamp && condition(p, 'Ready')?.reason === 'Deleting' ? p : undefined;
    });
    expect(condition(held, 'Stalled')).toMatchObject({ status: 'True', reason: 'Deleting' });
    expect(condition(held, 'Ready')?.message).toMatch(
      /restore \(or fix\) the Secret, or set spec\.deletionPolicy: Retain/,
    );
    expect(env.events('held')).toContainEqual(
      expect.objectContaining({
        type: 'Warning',
        reason: 'Deleting',
        message: condition(held, 'Ready')?.message,
      }),
    );
    const retained = structuredClone(held);
    retained.spec.deletionPolicy = 'Retain';
    env.updateProvision(retained);
    await eventually('the object gone', () => env.provision('held') === undefined);
    expect(await env.tables('cdm_held')).toEqual(['cdm_work_project']);
  });
});
