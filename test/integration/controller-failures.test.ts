import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP_VERSION, KIND } from '../../src/api/types.js';
import { realClock } from '../../src/controller/clock.js';
import { defaultControllerRateLimiter, type RateLimiter } from '../../src/controller/rate-limiter.js';
import { freePort } from '../../src/postgres/embedded-server.js';
import { serverUrl } from '../support/database.js';
import { aSinkProvision, ControllerEnv, condition, eventually, FAST, NAMESPACE } from './controller-env.js';

/** A recognisable password: it must never show up in a log line, an Event or a status. */
const PASSWORD = 'S3cr3t-Pa55-xyz';

/** The default limiter, recording each delay it hands out per key. */
function recordingLimiter(): RateLimiter<string> & { delays: Map<string, number[]> } {
  const inner = defaultControllerRateLimiter<string>(realClock, FAST.rateLimiter);
  const delays = new Map<string, number[]>();
  return {
    delays,
    when(key) {
      const delay = inner.when(key);
      delays.set(key, [...(delays.get(key) ?? []), delay]);
      return delay;
    },
    forget: (key) => inner.forget(key),
    numRequeues: (key) => inner.numRequeues(key),
  };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('controller failure handling', () => {
  let env: ControllerEnv;
  const limiter = recordingLimiter();
  const role = `cdm_app_${randomBytes(4).toString('hex')}`;
  let goodUrl: string;
  let deadUrl: string;

  beforeAll(async () => {
    env = await ControllerEnv.create();
    await admin(`CREATE ROLE ${role} LOGIN PASSWORD '${PASSWORD}'`);
    await admin(`GRANT ALL ON DATABASE ${env.db.name} TO ${role}`);
    const url = new URL(env.db.url);
    url.username = role;
    url.password = PASSWORD;
    goodUrl = url.toString();
    url.port = String(await freePort());
    deadUrl = url.toString();
    await env.start('solo', { limiter });
  });
  afterAll(async () => {
    await env?.close();
    await admin(`DROP ROLE IF EXISTS ${role}`);
  });

  it('reports ConnectionFailed without stalling, backs off, and recovers every CR once the database is reachable', async () => {
    const names = ['down-a', 'down-b', 'down-c'];
    for (const [i, name] of names.entries()) {
      env.secret(`${name}-sink`, deadUrl);
      env.createProvision(aSinkProvision(name, { schema: `cdm_down_${i}` }));
    }
    for (const name of names) {
      const failing = await eventually(`${name} ConnectionFailed`, () => {
        const p = env.provision(name);
        return condition(p, 'Ready')?.reason === 'ConnectionFailed' ? p : undefined;
      });
      expect(condition(failing, 'Ready')?.status).toBe('False');
      expect(condition(failing, 'Stalled')?.status).toBe('False');
      expect(condition(failing, 'Reconciling')?.status).toBe('True');
    }
    const key = `${NAMESPACE}/down-a`;
    const delays = await eventually('five retries of down-a', () => {
      const d = limiter.delays.get(key) ?? [];
      return d.length >= 5 ? d : undefined;
    });
    expect(delays.slice(0, 5)).toEqual([50, 100, 200, 400, 800]);

    for (const name of names) env.secret(`${name}-sink`, goodUrl);
    for (const name of names) await env.waitReady(name);
    // The backoff is forgotten right after the successful pass that wrote Ready.
    await eventually('the backoff of down-a reset', () => limiter.numRequeues(key) === 0);
    expect(env.events('down-a').find((e) => e.reason === 'ConnectionFailed')?.count).toBeGreaterThan(1);
  });

  it('stalls on a wrong password with AuthenticationFailed', async () => {
    const wrong = new URL(goodUrl);
    wrong.password = `${PASSWORD}-wrong`;
    env.secret('auth-sink', wrong.toString());
    env.createProvision(aSinkProvision('auth', { schema: 'cdm_auth' }));
    const stalled = await eventually('AuthenticationFailed', () => {
      const p = env.provision('auth');
      return condition(p, 'Ready')?.reason === 'AuthenticationFailed' ? p : undefined;
    });
    expect(condition(stalled, 'Stalled')?.status).toBe('True');
  });

  it('never lets the Secret value reach a log line, an Event or a status', async () => {
    expect(env.logLines.length).toBeGreaterThan(10);
    const encoded = Buffer.from(goodUrl).toString('base64');
    const events = env.api.list('v1', 'Event', NAMESPACE);
    const statuses = env.api
      .list(API_GROUP_VERSION, KIND, NAMESPACE)
      .map((p) => (p as { status?: unknown }).status);
    for (const text of [
      ...env.logLines,
      ...events.map((e) => JSON.stringify(e)),
      ...statuses.map((s) => JSON.stringify(s)),
    ]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(encoded);
    }
  });
});
