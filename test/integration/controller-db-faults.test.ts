import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aSinkProvision, ControllerEnv, condition, eventually } from './controller-env.js';

/**
 * The controller runs the same reconcile as the CLI: a terminated session, or a failover, during any
 * statement of it must become a ConnectionFailed status and a retry, never the end of the process.
 */
describe('controller under database faults', () => {
  let env: ControllerEnv;
  beforeAll(async () => {
    env = await ControllerEnv.create();
    await env.start('solo');
  });
  afterAll(async () => {
    await env?.close();
  });

  it("terminates backends at random points of the controller's reconciles and still converges", async () => {
    const names = ['kill-a', 'kill-b', 'kill-c', 'kill-d'];
    env.secret('kill-sink', env.db.url);
    let stop = false;
    let killed = 0;
    const killer = (async () => {
      while (!stop) {
        const { rowCount } = await env.db.pool.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'cdm-sink-operator'",
        );
        killed += rowCount ?? 0;
        await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 40)));
      }
    })();
    for (const [i, name] of names.entries()) {
      env.createProvision(
        aSinkProvision(name, {
          schema: `cdm_kill_${i}`,
          secret: 'kill-sink',
          models: ['cdm.work.item', 'cdm.work.comment'],
        }),
      );
    }
    await eventually('a ConnectionFailed status', () =>
      names.some((n) => condition(env.provision(n), 'Ready')?.reason === 'ConnectionFailed'),
    );
    await new Promise((r) => setTimeout(r, 1_500));
    stop = true;
    await killer;
    expect(killed).toBeGreaterThan(0);
    for (const name of names) {
      const ready = await env.waitReady(name, 30_000);
      expect(condition(ready, 'Stalled')?.status).toBe('False');
    }
    // Still the same live replica: it leads and serves health after all of it.
    expect(env.controllers[0]!.isLeader()).toBe(true);
    const health = await fetch(`http://127.0.0.1:${env.controllers[0]!.healthPort}/healthz`);
    expect(health.status).toBe(200);
  }, 90_000);
});
