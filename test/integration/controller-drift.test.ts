import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aSinkProvision, ControllerEnv, condition, eventually } from './controller-env.js';

/** Nothing about the CR changes in these tests: only the periodic resync can find the dropped table. */
describe('drift found by the periodic resync', () => {
  let env: ControllerEnv;
  beforeAll(async () => {
    env = await ControllerEnv.create();
    await env.start('solo', { resyncPeriodMs: 500 });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('re-creates a table dropped by hand with drift: Correct', async () => {
    env.secret('fix-sink', env.db.url);
    env.createProvision(
      aSinkProvision('fix', { schema: 'cdm_fix', models: ['cdm.work.project', 'cdm.work.user'] }),
    );
    await env.waitReady('fix');
    await env.db.pool.query('DROP TABLE cdm_fix.cdm_work_user');
    await eventually('the table back', async () => (await env.tables('cdm_fix')).includes('cdm_work_user'));
    await eventually('a Drifted event', () => env.events('fix').some((e) => e.reason === 'Drifted'));
    await env.waitReady('fix');
  });

  it('reports a table dropped by hand as Drifted with drift: Report and leaves it missing', async () => {
    env.secret('watch-sink', env.db.url);
    env.createProvision(
      aSinkProvision('watch', {
        schema: 'cdm_watch',
        models: ['cdm.work.project', 'cdm.work.user'],
        drift: 'Report',
      }),
    );
    await env.waitReady('watch');
    await env.db.pool.query('DROP TABLE cdm_watch.cdm_work_user');
    const drifted = await eventually('Drifted reported', () => {
      const p = env.provision('watch');
      return condition(p, 'Ready')?.reason === 'Drifted' ? p : undefined;
    });
    expect(condition(drifted, 'Ready')?.status).toBe('False');
    expect(drifted.status?.tables?.find((t) => t.model === 'cdm.work.user')?.state).not.toBe('Ready');
    expect(await env.tables('cdm_watch')).toEqual(['cdm_work_project']);
  });
});
