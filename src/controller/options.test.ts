import { describe, expect, it } from 'vitest';
import { parseControllerFlags, UsageError } from './options.js';

describe('parseControllerFlags', () => {
  it('uses the documented defaults', () => {
    expect(parseControllerFlags([], { POD_NAME: 'pod-a' })).toMatchObject({
      namespaces: [],
      concurrency: 4,
      resyncPeriodMs: 600_000,
      metricsPort: 8080,
      healthPort: 8081,
      leaderElect: true,
      leaseName: 'cdm-sink-controller',
      identity: 'pod-a',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      shutdownTimeoutMs: 25_000,
      logLevel: 'info',
    });
  });

  it('reads flags in both spellings, repeated and comma-separated namespaces, and durations', () => {
    const flags = parseControllerFlags(
      [
        '--namespace',
        'a,b',
        '--namespace=c',
        '--concurrency=8',
        '--resync-period',
        '30s',
        '--leader-elect=false',
        '--shutdown-timeout=55s',
      ],
      {},
    );
    expect(flags).toMatchObject({
      namespaces: ['a', 'b', 'c'],
      concurrency: 8,
      resyncPeriodMs: 30_000,
      leaderElect: false,
      shutdownTimeoutMs: 55_000,
    });
  });

  it('falls back to the environment, and flags win over it', () => {
    const env = {
      WATCH_NAMESPACE: 'x, y',
      METRICS_PORT: '9090',
      HEALTH_PORT: '9091',
      CDM_CATALOG_URL: 'postgres://c/catalog',
      POD_NAMESPACE: 'cdm-sink-system',
    };
    expect(parseControllerFlags(['--metrics-port', '9999'], env)).toMatchObject({
      namespaces: ['x', 'y'],
      metricsPort: 9999,
      healthPort: 9091,
      catalogUrl: 'postgres://c/catalog',
      leaseNamespace: 'cdm-sink-system',
    });
  });

  it('gives a hostname-based identity without POD_NAME, different per process', () => {
    const a = parseControllerFlags([], {});
    const b = parseControllerFlags([], {});
    expect(a === 'help' || b === 'help' ? '' : a.identity).not.toBe(b === 'help' ? '' : b.identity);
  });

  it.each([
    [['--bogus'], /unknown flag --bogus/],
    [['--concurrency', 'many'], /--concurrency must be a whole number/],
    [['--resync-period', '10 minutes'], /--resync-period must be a duration/],
    [['--metrics-port', '70000'], /--metrics-port/],
    [['--leader-elect=maybe'], /--leader-elect must be true or false/],
    [['--log-level', 'loud'], /--log-level must be one of/],
    [['--kubeconfig'], /--kubeconfig needs a value/],
    [['stray'], /unexpected argument/],
    [['--renew-deadline', '20s'], /lease timings/],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => parseControllerFlags(argv, {})).toThrow(UsageError);
    expect(() => parseControllerFlags(argv, {})).toThrow(message);
  });

  it('asks for help', () => {
    expect(parseControllerFlags(['--help'], {})).toBe('help');
    expect(parseControllerFlags(['-h'], {})).toBe('help');
  });
});
