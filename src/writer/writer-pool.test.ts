import pg from 'pg';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { WriterPool, WriterPoolClient } from './writer-pool.js';

describe('WriterPool', () => {
  it('is satisfied by a node-postgres Pool and its clients as they are', async () => {
    expectTypeOf<pg.Pool>().toExtend<WriterPool>();
    expectTypeOf<pg.PoolClient>().toExtend<WriterPoolClient>();
    // A pool connects lazily, so this one never opens a connection.
    const pool = new pg.Pool();
    const writerPool: WriterPool = pool;
    expect(writerPool).toBe(pool);
    await pool.end();
  });
});
