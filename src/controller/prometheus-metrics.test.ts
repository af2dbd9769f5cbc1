import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { createPrometheusMetrics } from './prometheus-metrics.js';
import { ExponentialFailureRateLimiter } from './rate-limiter.js';
import { WorkQueue } from './work-queue.js';

/**
 * controller-runtime's `prometheus.ExponentialBuckets(10e-9, 10, 12)` as Go computes them (repeated
 * multiplication, so two boundaries carry float error): the same bounds as a Go operator's, so its
 * dashboards' quantiles read the same.
 */
const UPSTREAM_WORKQUEUE_BUCKETS = [
  1e-8, 1e-7, 1e-6, 9.999999999999999e-6, 9.999999999999999e-5, 0.001, 0.01, 0.1, 1, 10, 100, 1000,
];

function aMetrics() {
  return createPrometheusMetrics({ controller: 'cdmsinkprovision', queueName: 'provisions' });
}

function bucketBounds(text: string, metric: string): number[] {
  const pattern = new RegExp(`^${metric}_bucket\\{le="([^"]+)",name="provisions"\\} `, 'gm');
  return [...text.matchAll(pattern)].map((m) => (m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1])));
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('createPrometheusMetrics', () => {
  it('exposes the client-go workqueue and controller-runtime worker metrics, pre-created at 0', async () => {
    const text = await aMetrics().registry.metrics();
    for (const line of [
      '# HELP workqueue_queue_duration_seconds How long in seconds an item stays in workqueue before being requested',
      '# TYPE workqueue_queue_duration_seconds histogram',
      'workqueue_queue_duration_seconds_count{name="provisions"} 0',
      '# HELP workqueue_work_duration_seconds How long in seconds processing an item from workqueue takes.',
      '# TYPE workqueue_work_duration_seconds histogram',
      'workqueue_work_duration_seconds_count{name="provisions"} 0',
      "# HELP workqueue_unfinished_work_seconds How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.",
      '# TYPE workqueue_unfinished_work_seconds gauge',
      'workqueue_unfinished_work_seconds{name="provisions"} 0',
      '# HELP workqueue_longest_running_processor_seconds How many seconds has the longest running processor for workqueue been running.',
      '# TYPE workqueue_longest_running_processor_seconds gauge',
      'workqueue_longest_running_processor_seconds{name="provisions"} 0',
      '# HELP controller_runtime_active_workers Number of currently used workers per controller',
      '# TYPE controller_runtime_active_workers gauge',
      'controller_runtime_active_workers{controller="cdmsinkprovision"} 0',
      'workqueue_depth{name="provisions"} 0',
      'workqueue_adds_total{name="provisions"} 0',
      'workqueue_retries_total{name="provisions"} 0',
    ]) {
      expect(text).toContain(line);
    }
  });

  it('uses the upstream workqueue histogram buckets', async () => {
    const text = await aMetrics().registry.metrics();
    for (const metric of ['workqueue_queue_duration_seconds', 'workqueue_work_duration_seconds']) {
      expect(bucketBounds(text, metric)).toEqual([...UPSTREAM_WORKQUEUE_BUCKETS, Number.POSITIVE_INFINITY]);
    }
  });

  it('records queue and work durations and reads processing times from the queue at scrape time', async () => {
    const metrics = aMetrics();
    const clock = new FakeClock();
    const queue = new WorkQueue<string>(clock, new ExponentialFailureRateLimiter(5, 1000), metrics.queue);
    queue.add('a');
    queue.add('b');
    await clock.advance(2000);
    await queue.get();
    await clock.advance(1000);
    await queue.get();
    await clock.advance(500);

    let text = await metrics.registry.metrics();
    expect(sample(text, 'workqueue_queue_duration_seconds_count{name="provisions"}')).toBe(2);
    expect(sample(text, 'workqueue_queue_duration_seconds_sum{name="provisions"}')).toBe(5);
    expect(sample(text, 'workqueue_unfinished_work_seconds{name="provisions"}')).toBe(2);
    expect(sample(text, 'workqueue_longest_running_processor_seconds{name="provisions"}')).toBe(1.5);

    queue.done('a');
    queue.done('b');
    text = await metrics.registry.metrics();
    expect(sample(text, 'workqueue_work_duration_seconds_count{name="provisions"}')).toBe(2);
    expect(sample(text, 'workqueue_work_duration_seconds_sum{name="provisions"}')).toBe(2);
    expect(sample(text, 'workqueue_unfinished_work_seconds{name="provisions"}')).toBe(0);
    expect(sample(text, 'workqueue_longest_running_processor_seconds{name="provisions"}')).toBe(0);
  });

  it('counts active workers up and down', async () => {
    const metrics = aMetrics();
    const active = async () =>
      sample(
        await metrics.registry.metrics(),
        'controller_runtime_active_workers{controller="cdmsinkprovision"}',
      );
    metrics.activeWorkers(1);
    metrics.activeWorkers(1);
    expect(await active()).toBe(2);
    metrics.activeWorkers(-1);
    expect(await active()).toBe(1);
    metrics.activeWorkers(-1);
    expect(await active()).toBe(0);
  });

  it('drops every provision readiness and condition series on clearProvisions', async () => {
    const metrics = aMetrics();
    metrics.provisionStatus('data', 'jira', {
      ready: true,
      conditions: [cond('Ready', 'True', 'Provisioned')],
    });
    metrics.provisionStatus('ops', 'pager', {
      ready: false,
      conditions: [cond('Ready', 'False', 'Suspended')],
    });
    let text = await metrics.registry.metrics();
    expect(text).toContain('cdm_sink_provision_ready{namespace="data",name="jira"} 1');
    expect(text).toContain('cdm_sink_provision_ready{namespace="ops",name="pager"} 0');

    metrics.clearProvisions();
    text = await metrics.registry.metrics();
    expect(text).not.toContain('cdm_sink_provision_ready{');
    expect(text).not.toContain('cdm_sink_provision_condition{');

    metrics.provisionStatus('data', 'jira', { ready: false, conditions: [] });
    expect(await metrics.registry.metrics()).toContain(
      'cdm_sink_provision_ready{namespace="data",name="jira"} 0',
    );
  });

  it('exports one condition series per provision and type, replaced when the status or reason changes', async () => {
    const metrics = aMetrics();
    const series = async () =>
      (await metrics.registry.metrics())
        .split('\n')
        .filter((l) => l.startsWith('cdm_sink_provision_condition{'));
    metrics.provisionStatus('data', 'jira', {
      ready: false,
      conditions: [
        cond('Ready', 'False', 'SecretNotFound'),
        cond('Reconciling', 'False', 'SecretNotFound'),
        cond('Stalled', 'True', 'SecretNotFound'),
        cond('SomethingElse', 'True', 'Ignored'),
      ],
    });
    expect(await series()).toEqual([
      'cdm_sink_provision_condition{namespace="data",name="jira",type="Ready",status="False",reason="SecretNotFound"} 1',
      'cdm_sink_provision_condition{namespace="data",name="jira",type="Reconciling",status="False",reason="SecretNotFound"} 1',
      'cdm_sink_provision_condition{namespace="data",name="jira",type="Stalled",status="True",reason="SecretNotFound"} 1',
    ]);

    metrics.provisionStatus('data', 'jira', {
      ready: true,
      conditions: [cond('Ready', 'True', 'Provisioned'), cond('Stalled', 'False', 'Provisioned')],
    });
    expect(await series()).toEqual([
      'cdm_sink_provision_condition{namespace="data",name="jira",type="Ready",status="True",reason="Provisioned"} 1',
      'cdm_sink_provision_condition{namespace="data",name="jira",type="Stalled",status="False",reason="Provisioned"} 1',
    ]);

    metrics.provisionRemoved('data', 'jira');
    expect(await series()).toEqual([]);
    expect(await metrics.registry.metrics()).not.toContain('cdm_sink_provision_ready{');
  });

  it('counts watch restarts per informer', async () => {
    const metrics = aMetrics();
    metrics.watchRestarted('data');
    metrics.watchRestarted('data');
    metrics.watchRestarted('ops');
    const text = await metrics.registry.metrics();
    expect(text).toContain('cdm_sink_watch_restarts_total{informer="data"} 2');
    expect(text).toContain('cdm_sink_watch_restarts_total{informer="ops"} 1');
  });
});

function cond(type: string, status: 'True' | 'False' | 'Unknown', reason: string) {
  return { type, status, reason };
}
