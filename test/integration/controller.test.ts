import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP_VERSION, type CdmSinkProvision, FINALIZER, KIND } from '../../src/api/types.js';
import type { RunningController } from '../../src/controller/start-controller.js';
import { installDdlAudit } from '../support/database.js';
import { aSinkProvision, ControllerEnv, condition, eventually, NAMESPACE } from './controller-env.js';

describe('controller against the fake API server and real Postgres', () => {
  let env: ControllerEnv;
  let controller: RunningController;
  beforeAll(async () => {
    env = await ControllerEnv.create();
    controller = await env.start('solo');
  });
  afterAll(async () => {
    await env?.close();
  });

  it('provisions tables and catalog rows for a new CR and reports Ready for its generation', async () => {
    env.secret('jira-sink', env.db.url);
    env.createProvision(
      aSinkProvision('jira', { schema: 'cdm_jira', models: ['cdm.work.project', 'cdm.work.user'] }),
    );
    const ready = await env.waitReady('jira');
    expect(ready.metadata.finalizers).toContain(FINALIZER);
    expect(ready.status?.observedGeneration).toBe(ready.metadata.generation);
    expect(condition(ready, 'Ready')?.observedGeneration).toBe(ready.metadata.generation);
    expect(condition(ready, 'Stalled')?.status).toBe('False');
    expect(await env.tables('cdm_jira')).toEqual(['cdm_work_project', 'cdm_work_user']);
    expect(await env.datasets(`${NAMESPACE}/jira`)).toEqual([
      { dataset_id: 'cdm.work.project@data-platform/jira', status: 'active' },
      { dataset_id: 'cdm.work.user@data-platform/jira', status: 'active' },
    ]);
    await eventually('an Event about the applied plan', () =>
      env.events('jira').some((e) => e.type === 'Normal'),
    );
  });

  it('follows a spec edit to a new generation, and a status-only change runs no DDL', async () => {
    env.secret('edit-sink', env.db.url);
    env.createProvision(aSinkProvision('edit', { schema: 'cdm_edit' }));
    const first = await env.waitReady('edit');
    const audit = await installDdlAudit(env.db.pool);
    await audit.reset();

    const edited = structuredClone(first);
    edited.spec.models = ['cdm.work.project', 'cdm.work.item'];
    env.updateProvision(edited);
    const second = await eventually('generation 2 observed', () => {
      const p = env.provision('edit');
      return p?.metadata.generation === 2 && p.status?.observedGeneration === 2 ? p : undefined;
    });
    expect(condition(second, 'Ready')).toMatchObject({ status: 'True', observedGeneration: 2 });
    expect(await env.tables('cdm_edit')).toEqual(['cdm_work_item', 'cdm_work_project']);
    expect(await audit.commands()).toContain('CREATE TABLE');

    await audit.reset();
    const handledBefore = controller.handled();
    const statusEdit = structuredClone(second) as CdmSinkProvision & { status: { modelCount?: number } };
    statusEdit.status.modelCount = 99;
    env.updateProvisionStatus(statusEdit);
    // A label change after it is reconciled; by then the status event before it has been seen too.
    const labelled = structuredClone(env.provision('edit')!);
    labelled.metadata.labels = { touched: 'yes' };
    env.updateProvision(labelled);
    await eventually('the label change handled', () => controller.handled() > handledBefore);
    expect(await audit.commands()).toEqual([]);
  });

  it('writes the Suspended status and creates nothing while suspended', async () => {
    env.secret('paused-sink', env.db.url);
    env.createProvision(aSinkProvision('paused', { schema: 'cdm_paused', suspend: true }));
    const suspended = await eventually('Suspended', () => {
      const p = env.provision('paused');
      return condition(p, 'Ready')?.reason === 'Suspended' ? p : undefined;
    });
    expect(suspended.status?.observedGeneration).toBe(1);
    expect(await env.tables('cdm_paused')).toEqual([]);
  });

  it('reports a missing Secret as SecretNotFound and Stalled, then recovers when it appears', async () => {
    env.createProvision(aSinkProvision('orphan', { schema: 'cdm_orphan' }));
    const stalled = await eventually('SecretNotFound', () => {
      const p = env.provision('orphan');
      return condition(p, 'Ready')?.reason === 'SecretNotFound' ? p : undefined;
    });
    expect(condition(stalled, 'Stalled')?.status).toBe('True');
    expect(condition(stalled, 'Ready')?.message).toContain(`${NAMESPACE}/orphan-sink`);
    env.secret('orphan-sink', env.db.url);
    // Nothing about the CR changed, so only a change to it (or the periodic resync) looks again.
    const touched = structuredClone(env.provision('orphan')!);
    touched.metadata.annotations = { 'example.com/retry': '1' };
    env.updateProvision(touched);
    await env.waitReady('orphan');
  });

  it('keeps the tables with Retain, marks the datasets deleted, and lets the object go', async () => {
    env.secret('keep-sink', env.db.url);
    env.createProvision(aSinkProvision('keep', { schema: 'cdm_keep', deletionPolicy: 'Retain' }));
    await env.waitReady('keep');
    env.api.delete(API_GROUP_VERSION, KIND, NAMESPACE, 'keep');
    await eventually('the object gone', () => env.provision('keep') === undefined);
    expect(await env.tables('cdm_keep')).toEqual(['cdm_work_project']);
    expect(await env.datasets(`${NAMESPACE}/keep`)).toEqual([
      { dataset_id: 'cdm.work.project@data-platform/keep', status: 'deleted' },
    ]);
    const readySeries = async () =>
      (await controller.metrics.registry.getSingleMetric('cdm_sink_provision_ready')?.get())?.values ?? [];
    await eventually(
      'the readiness series dropped',
      async () => !(await readySeries()).some((v) => v.labels.name === 'keep'),
    );
  });

  it('drops the tables it owns with Delete', async () => {
    env.secret('drop-sink', env.db.url);
    env.createProvision(aSinkProvision('drop', { schema: 'cdm_drop', deletionPolicy: 'Delete' }));
    await env.waitReady('drop');
    await env.db.pool.query('CREATE TABLE cdm_drop.not_ours (id int)');
    env.api.delete(API_GROUP_VERSION, KIND, NAMESPACE, 'drop');
    await eventually('the object gone', () => env.provision('drop') === undefined);
    expect(await env.tables('cdm_drop')).toEqual(['not_ours']);
  });

  it('keeps the finalizer and says why while cleanup cannot reach the database', async () => {
    env.secret('stuck-sink', env.db.url);
    env.createProvision(aSinkProvision('stuck', { schema: 'cdm_stuck', deletionPolicy: 'Delete' }));
    await env.waitReady('stuck');
    env.secret('stuck-sink', 'postgres://nobody:wrong@127.0.0.1:1/none');
    env.api.delete(API_GROUP_VERSION, KIND, NAMESPACE, 'stuck');
    const blocked = await eventually('a failed cleanup reported', () => {
      const p = env.provision('stuck');
      return p?.metadata.deletionTimestamp && condition(p, 'Ready')?.reason === 'ConnectionFailed'
        ? p
        : undefined;
    });
    expect(blocked.metadata.finalizers).toContain(FINALIZER);
    env.secret('stuck-sink', env.db.url);
    await eventually('the object gone', () => env.provision('stuck') === undefined);
    expect(await env.tables('cdm_stuck')).toEqual([]);
  });

  it('reports a blocked deletion in its metrics: not Ready, Stalled with the reason, until it is gone', async () => {
    env.secret('blocked-sink', env.db.url);
    env.createProvision(aSinkProvision('blocked', { schema: 'cdm_blocked', deletionPolicy: 'Delete' }));
    await env.waitReady('blocked');
    const series = async () => {
      const text = await controller.metrics.registry.metrics();
      return text
        .split('\n')
        .filter((l) => /^cdm_sink_provision_(ready|condition)\{.*name="blocked"/.test(l));
    };
    await eventually('blocked reported Ready', async () =>
      (await series()).includes('cdm_sink_provision_ready{namespace="data-platform",name="blocked"} 1'),
    );
    // Without its Secret, deletionPolicy Delete cannot drop the tables: the deletion stalls.
    env.api.delete('v1', 'Secret', NAMESPACE, 'blocked-sink');
    env.api.delete(API_GROUP_VERSION, KIND, NAMESPACE, 'blocked');
    await eventually('the deletion reported Stalled', () => {
      const p = env.provision('blocked');
      return condition(p!, 'Stalled')?.status === 'True' ? p : undefined;
    });
    await eventually('the metrics say so', async () => {
      const lines = await series();
      return (
        lines.includes('cdm_sink_provision_ready{namespace="data-platform",name="blocked"} 0') &&
        lines.includes(
          'cdm_sink_provision_condition{namespace="data-platform",name="blocked",type="Stalled",status="True",reason="Deleting"} 1',
        )
      );
    });
    // What the Stalled message says to do: keep the tables and let the provision go.
    const stuck = env.provision('blocked')!;
    env.updateProvision({ ...stuck, spec: { ...stuck.spec, deletionPolicy: 'Retain' } });
    await eventually('the object gone', () => env.provision('blocked') === undefined);
    await eventually('its series gone', async () => (await series()).length === 0);
  });

  it('serves probes and metrics', async () => {
    const base = `http://127.0.0.1:${controller.healthPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const text = await (await fetch(`http://127.0.0.1:${controller.metricsPort}/metrics`)).text();
    expect(text).toMatch(
      /controller_runtime_reconcile_total\{controller="cdmsinkprovision",result="success"\} [1-9]/,
    );
    expect(text).toMatch(/cdm_sink_provision_ready\{namespace="data-platform",name="jira"\} 1/);
    expect(text).toMatch(/workqueue_adds_total\{name="cdmsinkprovision"\} [1-9]/);
  });
});
