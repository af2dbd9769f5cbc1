import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase } from '../support/database.js';
import type { Envelope } from '../support/envelope.js';
import { expectValidateRejectsEach, INVALID_CATALOG_STRINGS } from '../support/invalid-provisions.js';

const CASES = INVALID_CATALOG_STRINGS;

describe('catalog labels and domain (subprocess, real Postgres)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cdm-sink-labels-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('validate rejects NUL and lone surrogates in labels and domain, naming the field', async () => {
    await expectValidateRejectsEach(path.join(dir, 'bad.yaml'), CASES);
  });

  it('apply stops at each such provision with InvalidSpec, naming the field, before connecting', async () => {
    for (const c of CASES) {
      const db = await createTestDatabase('clilbl');
      try {
        const file = path.join(dir, `${c.name}.yaml`);
        await writeFile(file, c.yaml);
        const result = await runCli(['apply', '-f', file, '--database-url', db.url, '-o', 'json']);
        expect(result.code, c.name).toBe(1);
        const envelope = JSON.parse(result.stdout) as Envelope;
        expect(envelope.provisions, c.name).toEqual([
          expect.objectContaining({ valid: false, ready: false }),
        ]);
        expect(envelope.errors, c.name).toEqual([
          expect.objectContaining({ provision: `ns/${c.name}`, path: c.path, reason: 'InvalidSpec' }),
        ]);
        const { rows } = await db.pool.query(
          "SELECT nspname FROM pg_namespace WHERE nspname IN ('cdm_work', 'catalog')",
        );
        expect(rows, c.name).toEqual([]);
      } finally {
        await db.drop();
      }
    }
  });
});
