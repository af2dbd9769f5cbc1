import { afterEach, describe, expect, it } from 'vitest';
import { type HealthServer, startHealthServer } from './health-server.js';
import { createPrometheusMetrics } from './prometheus-metrics.js';

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('startHealthServer', () => {
  it('answers probes from the checks and serves metrics with every series pre-created', async () => {
    let ready = false;
    const metrics = createPrometheusMetrics({
      controller: 'cdmsinkprovision',
      leaseName: 'cdm-sink-controller',
    });
    server = await startHealthServer({
      healthPort: 0,
      metricsPort: 0,
      host: '127.0.0.1',
      checks: { live: () => true, ready: () => ready },
      registry: metrics.registry,
    });
    const health = `http://127.0.0.1:${server.healthPort}`;
    expect((await fetch(`${health}/healthz`)).status).toBe(200);
    expect((await fetch(`${health}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${health}/readyz`)).status).toBe(200);
    expect((await fetch(`${health}/nope`)).status).toBe(404);

    const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
    for (const series of [
      'controller_runtime_reconcile_total{controller="cdmsinkprovision",result="success"} 0',
      'controller_runtime_reconcile_total{controller="cdmsinkprovision",result="requeue_after"} 0',
      'controller_runtime_reconcile_errors_total{controller="cdmsinkprovision"} 0',
      'controller_runtime_reconcile_time_seconds_count{controller="cdmsinkprovision"} 0',
      'workqueue_depth{name="cdmsinkprovision"} 0',
      'workqueue_adds_total{name="cdmsinkprovision"} 0',
      'workqueue_retries_total{name="cdmsinkprovision"} 0',
      'leader_election_master_status{name="cdm-sink-controller"} 0',
      'cdm_sink_reconcile_reason_total{reason="ConnectionFailed"} 0',
      'cdm_sink_ddl_statements_total 0',
    ]) {
      expect(text).toContain(series);
    }
  });
});
