import { describe, expect, it } from 'vitest';
import type { CdmSinkProvision } from '../api/types.js';
import { OwnWrites } from './own-writes.js';
import { aProvision } from './testing/provision-builder.js';

const at = (rv: string): CdmSinkProvision => {
  const p = aProvision('jira').build();
  p.metadata.resourceVersion = rv;
  return p;
};

const classify = (writes: OwnWrites, key: string, obj: CdmSinkProvision): 'own' | 'foreign' => {
  let result: 'own' | 'foreign' = 'own';
  writes.observe(key, obj, () => {
    result = 'foreign';
  });
  return result;
};

describe('OwnWrites', () => {
  it('serves our latest write while the cache still shows a version it replaced', () => {
    const writes = new OwnWrites();
    writes.record('k', at('1'), at('2'));
    writes.record('k', at('2'), at('3'));
    expect(writes.resolve('k', at('1')).metadata.resourceVersion).toBe('3');
    expect(writes.resolve('k', at('2')).metadata.resourceVersion).toBe('3');
    expect(classify(writes, 'k', at('2'))).toBe('own');
    expect(writes.size()).toBe(1);
    expect(classify(writes, 'k', at('3'))).toBe('own');
    expect(writes.size()).toBe(0);
  });

  it('lets a foreign change win and forgets the entry', () => {
    const writes = new OwnWrites();
    writes.record('k', at('1'), at('2'));
    expect(writes.resolve('k', at('7')).metadata.resourceVersion).toBe('7');
    expect(classify(writes, 'k', at('2'))).toBe('foreign');
  });

  it('holds an echo that arrives before the write answered, and recognises it by the version the write returned', async () => {
    const writes = new OwnWrites();
    let answer: (value: CdmSinkProvision) => void = () => {};
    const writing = writes.track('k', at('1'), () => new Promise((resolve) => (answer = resolve)));
    const verdicts: string[] = [];
    writes.observe('k', at('2'), () => verdicts.push('2 foreign'));
    writes.observe('k', at('9'), () => verdicts.push('9 foreign'));
    expect(verdicts).toEqual([]);
    answer(at('2'));
    await writing;
    expect(verdicts).toEqual(['9 foreign']);
  });

  it('reports held events as foreign when the write failed', async () => {
    const writes = new OwnWrites();
    let fail: (error: Error) => void = () => {};
    const writing = writes.track('k', at('1'), () => new Promise((_, reject) => (fail = reject)));
    const verdicts: string[] = [];
    writes.observe('k', at('2'), () => verdicts.push('2 foreign'));
    fail(new Error('conflict'));
    await expect(writing).rejects.toThrow('conflict');
    expect(verdicts).toEqual(['2 foreign']);
  });
});
