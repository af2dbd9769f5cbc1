import { describe, expect, it } from 'vitest';
import type { CdmSinkProvision } from '../api/types.js';
import { OwnWrites } from './own-writes.js';
import { aProvision } from './testing/provision-builder.js';

const at = (rv: string): CdmSinkProvision => {
  const p = aProvision('jira').build();
  p.metadata.resourceVersion = rv;
  return p;
};

describe('OwnWrites', () => {
  it('serves our latest write while the cache still shows a version it replaced', () => {
    const writes = new OwnWrites();
    writes.record('k', at('1'), at('2'));
    writes.record('k', at('2'), at('3'));
    expect(writes.resolve('k', at('1')).metadata.resourceVersion).toBe('3');
    expect(writes.resolve('k', at('2')).metadata.resourceVersion).toBe('3');
    expect(writes.observe('k', at('2'))).toBe('own');
    expect(writes.size()).toBe(1);
    expect(writes.observe('k', at('3'))).toBe('own');
    expect(writes.size()).toBe(0);
  });

  it('lets a foreign change win and forgets the entry', () => {
    const writes = new OwnWrites();
    writes.record('k', at('1'), at('2'));
    expect(writes.resolve('k', at('7')).metadata.resourceVersion).toBe('7');
    expect(writes.observe('k', at('2'))).toBe('foreign');
  });
});
