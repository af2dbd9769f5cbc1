import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { LeadershipFence, REVOKED } from './leadership-fence.js';

describe('LeadershipFence', () => {
  it('runs writes until revoked, then refuses them without calling them', async () => {
    const fence = new LeadershipFence();
    expect(await fence.write(async () => 'written')).toBe('written');
    fence.revoke();
    let called = false;
    expect(
      await fence.write(async () => {
        called = true;
      }),
    ).toBe(REVOKED);
    expect(called).toBe(false);
    expect(fence.revoked).toBe(true);
  });

  it('refuses writes once leadership has lapsed, before anyone revoked it', async () => {
    let holds = true;
    const fence = new LeadershipFence(() => holds);
    expect(fence.revoked).toBe(false);
    holds = false;
    expect(fence.revoked).toBe(true);
    expect(await fence.write(async () => 'late')).toBe(REVOKED);
  });

  it('lets the owner wait, with a deadline, for writes that began before the revocation', async () => {
    const clock = new FakeClock();
    const fence = new LeadershipFence();
    let finish: () => void = () => {};
    const writing = fence.write(() => new Promise<void>((resolve) => (finish = resolve)));
    fence.revoke();
    const hung = fence.settled(clock, 1_000);
    await clock.advance(1_000);
    expect(await hung).toBe(false);
    const waiting = fence.settled(clock, 1_000);
    finish();
    expect(await waiting).toBe(true);
    await writing;
  });
});
