import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSinkManifest } from './provision.js';

describe('readSinkManifest', () => {
  it('reads the sink endpoint id, schema, prefix and models from provision.yaml', async () => {
    expect(await readSinkManifest()).toEqual({
      sinkEndpointId: 'examples/jira-ingest',
      schema: 'jira_cdm',
      tablePrefix: 'cdm_',
      models: ['cdm.work.project', 'cdm.work.user', 'cdm.work.item', 'cdm.work.comment', 'cdm.work.worklog'],
    });
  });

  it("falls back to the CRD's defaults for what a manifest leaves out, and refuses one without models", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jira-manifest-'));
    try {
      const file = path.join(dir, 'sink.yaml');
      await writeFile(
        file,
        'kind: CdmSinkProvision\nmetadata: { name: s }\nspec:\n  models: [cdm.work.user]\n',
      );
      expect(await readSinkManifest(file)).toEqual({
        sinkEndpointId: 'default/s',
        schema: 'cdm_work',
        tablePrefix: 'cdm_',
        models: ['cdm.work.user'],
      });
      await writeFile(file, 'kind: CdmSinkProvision\nmetadata: { name: s }\nspec: {}\n');
      await expect(readSinkManifest(file)).rejects.toThrow('spec.models');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
