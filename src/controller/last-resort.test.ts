import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FakeClock, flushAsync } from './clock.js';
import { FATAL_EXIT_CODE, type FatalErrorSource, installLastResort } from './last-resort.js';
import { createLogger } from './logger.js';

function setUp(shutDown: () => Promise<void>) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const source = new EventEmitter();
  const clock = new FakeClock();
  const exits: number[] = [];
  const steps: string[] = [];
  const uninstall = installLastResort(source as unknown as FatalErrorSource, {
    logger: createLogger({ level: 'info', destination }),
    shutDown: async () => {
      steps.push('shutdown started');
      await shutDown();
      steps.push('shutdown done');
    },
    exit: (code) => {
      steps.push('exit');
      exits.push(code);
    },
    timeoutMs: 5_000,
    clock,
  });
  return { source, clock, exits, steps, lines, uninstall };
}

describe('installLastResort', () => {
  it('logs an uncaught exception with context, shuts down, and exits non-zero only after that', async () => {
    const t = setUp(async () => {});
    t.source.emit('uncaughtException', new Error('boom at postgres://app:hunter2@db/x'), 'uncaughtException');
    await flushAsync();
    expect(t.steps).toEqual(['shutdown started', 'shutdown done', 'exit']);
    expect(t.exits).toEqual([FATAL_EXIT_CODE]);
    const fatal = t.lines.find((l) => l.level === 'fatal');
    expect(fatal?.msg).toMatch(/uncaught exception: .*releasing the lease and exiting/);
    expect(JSON.stringify(fatal)).toContain('boom at');
    expect(JSON.stringify(t.lines)).not.toContain('hunter2');
  });

  it('treats an unhandled rejection the same way', async () => {
    const t = setUp(async () => {});
    t.source.emit('unhandledRejection', new Error('nobody awaited me'));
    await flushAsync();
    expect(t.exits).toEqual([FATAL_EXIT_CODE]);
    expect(t.lines.find((l) => l.level === 'fatal')?.msg).toMatch(/^unhandled rejection/);
  });

  it('exits after its deadline when the shutdown hangs, and handles a second error by logging it', async () => {
    const t = setUp(() => new Promise(() => {}));
    t.source.emit('uncaughtException', new Error('first'), 'uncaughtException');
    t.source.emit('uncaughtException', new Error('second'), 'uncaughtException');
    await t.clock.advance(4_999);
    expect(t.exits).toEqual([]);
    await t.clock.advance(1);
    expect(t.exits).toEqual([FATAL_EXIT_CODE]);
    expect(t.steps.filter((s) => s === 'shutdown started')).toHaveLength(1);
    expect(t.lines.filter((l) => l.level === 'fatal')).toHaveLength(2);
  });

  it('stops listening once uninstalled', () => {
    const t = setUp(async () => {});
    t.uninstall();
    expect(t.source.listenerCount('uncaughtException')).toBe(0);
    expect(t.source.listenerCount('unhandledRejection')).toBe(0);
  });
});
