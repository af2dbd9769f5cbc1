import type { CoreV1Event } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINALIZER } from '../../src/api/types.js';
import { condition } from '../integration/controller-env.js';
import {
  ClusterEnv,
  type ControllerProcess,
  eventually,
  installOperator,
  isReadyForGeneration,
  kubectl,
  kubectlOk,
} from './cluster-env.js';

/**
 * The `cdm-sink controller` process against the real API server, as the shipped ServiceAccount (a
 * TokenRequest token bound only by the shipped roles), with a real embedded Postgres.
 */
describe('the controller end to end on a real API server', () => {
  let env: ClusterEnv;
  let controller: ControllerProcess;
  beforeAll(async () => {
    await installOperator();
    env = await ClusterEnv.create('e2e');
    controller = env.startController({
      kubeconfig: await env.serviceAccountKubeconfig(),
      identity: 'e2e-solo',
      // Drift is found by the periodic resync; a short one keeps the test quick.
      args: ['--resync-period=2s'],
    });
  });
  afterAll(() => env?.close());

  const wait = (name: string, condition = 'condition=Ready') =>
    kubectl(['wait', `cdmsink/${name}`, '-n', env.namespace, `--for=${condition}`, '--timeout=90s']);
  const datasets = async (sinkEndpointId: string) =>
    (
      await env.db.pool.query<{ dataset_id: string; status: string }>(
        'SELECT dataset_id, status FROM catalog.dataset WHERE sink_endpoint_id = $1 ORDER BY 1',
        [sinkEndpointId],
      )
    ).rows;

  it('create → kubectl wait --for=condition=Ready succeeds; status, tables and datasets as DESIGN §2 says', async () => {
    await env.createSink('jira', { schema: 'cdm_jira', models: ['cdm.work.project', 'cdm.work.user'] });
    const waited = await wait('jira');
    expect(waited.stderr + waited.stdout).toContain('condition met');
    expect(waited.code).toBe(0);

    const ready = (await env.provision('jira'))!;
    expect(ready.metadata.finalizers).toEqual([FINALIZER]);
    expect(isReadyForGeneration(ready)).toBe(true);
    expect(ready.status?.observedGeneration).toBe(1);
    expect(ready.status?.sinkEndpointId).toBe(`${env.namespace}/jira`);
    expect(ready.status?.modelCount).toBe(2);
    expect(ready.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual(
      expect.arrayContaining([
        ['Ready', 'True', 'Provisioned'],
        ['Reconciling', 'False', expect.any(String)],
        ['Stalled', 'False', expect.any(String)],
      ]),
    );
    expect(ready.status?.tables?.map((t) => [t.model, t.table, t.state])).toEqual([
      ['cdm.work.project', 'cdm_jira.cdm_work_project', 'Ready'],
      ['cdm.work.user', 'cdm_jira.cdm_work_user', 'Ready'],
    ]);
    expect(ready.status?.datasets).toEqual([
      { model: 'cdm.work.project', datasetId: `cdm.work.project@${env.namespace}/jira`, registered: true },
      { model: 'cdm.work.user', datasetId: `cdm.work.user@${env.namespace}/jira`, registered: true },
    ]);
    expect(await env.tables('cdm_jira')).toEqual(['cdm_work_project', 'cdm_work_user']);
    expect(await datasets(`${env.namespace}/jira`)).toEqual([
      { dataset_id: `cdm.work.project@${env.namespace}/jira`, status: 'active' },
      { dataset_id: `cdm.work.user@${env.namespace}/jira`, status: 'active' },
    ]);
  });

  it('kubectl get cdmsink shows the printer columns for a reconciled provision', async () => {
    const out = await kubectlOk(['get', 'cdmsink', 'jira', '-n', env.namespace]);
    const [header, row] = out
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/));
    expect(header).toEqual(['NAME', 'READY', 'REASON', 'MODELS', 'SCHEMA', 'AGE']);
    expect(row?.slice(0, 5)).toEqual(['jira', 'True', 'Provisioned', '2', 'cdm_jira']);
    expect(row?.[5]).toMatch(/^\d+[smh]/);
  });

  it('Events about the provision are visible with kubectl get events', async () => {
    const events = await eventually('an Event about jira', async () => {
      const list = JSON.parse(
        await kubectlOk([
          'get',
          'events',
          '-n',
          env.namespace,
          '--field-selector',
          'involvedObject.name=jira',
          '-o',
          'json',
        ]),
      ) as { items: CoreV1Event[] };
      return list.items.length > 0 ? list.items : undefined;
    });
    expect(events[0]).toMatchObject({
      type: 'Normal',
      involvedObject: { kind: 'CdmSinkProvision', name: 'jira', namespace: env.namespace },
      source: { component: 'cdm-sink-controller' },
    });
  });

  it('a spec change is reconciled to a new observedGeneration', async () => {
    await env.patchProvision('jira', {
      spec: { models: ['cdm.work.project', 'cdm.work.user', 'cdm.work.item'] },
    });
    const waited = await wait('jira', 'jsonpath={.status.observedGeneration}=2');
    expect(waited.code, waited.stderr).toBe(0);
    expect((await wait('jira')).code).toBe(0);
    const p = (await env.provision('jira'))!;
    expect(condition(p, 'Ready')).toMatchObject({ status: 'True', observedGeneration: 2 });
    expect(await env.tables('cdm_jira')).toEqual(['cdm_work_item', 'cdm_work_project', 'cdm_work_user']);
  });

  it('a table dropped by hand is re-created (drift: Correct)', async () => {
    await env.db.pool.query('DROP TABLE cdm_jira.cdm_work_user');
    await eventually(
      'cdm_work_user re-created',
      async () => (await env.tables('cdm_jira')).includes('cdm_work_user'),
      30_000,
    );
    expect((await wait('jira')).code).toBe(0);
  });

  it('deletion with Retain keeps the tables, marks the datasets deleted and removes the finalizer', async () => {
    await kubectlOk(['delete', 'cdmsink/jira', '-n', env.namespace, '--wait=true', '--timeout=60s']);
    expect(await env.provision('jira')).toBeUndefined();
    expect(await env.tables('cdm_jira')).toEqual(['cdm_work_item', 'cdm_work_project', 'cdm_work_user']);
    expect((await datasets(`${env.namespace}/jira`)).map((d) => d.status)).toEqual([
      'deleted',
      'deleted',
      'deleted',
    ]);
  });

  it('deletion with Delete drops the tables it created and removes the finalizer', async () => {
    await env.createSink('drop', { schema: 'cdm_drop', deletionPolicy: 'Delete' });
    expect((await wait('drop')).code).toBe(0);
    await env.db.pool.query('CREATE TABLE cdm_drop.not_ours (id int)');
    await kubectlOk(['delete', 'cdmsink/drop', '-n', env.namespace, '--wait=true', '--timeout=60s']);
    expect(await env.provision('drop')).toBeUndefined();
    expect(await env.tables('cdm_drop')).toEqual(['not_ours']);
    expect((await datasets(`${env.namespace}/drop`)).map((d) => d.status)).toEqual(['deleted']);
  });

  it('logged no warning or error for all of that', () => {
    expect(controller.running).toBe(true);
    expect(controller.lines.filter((l) => l.level >= 40)).toEqual([]);
  });
});
