import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { JiraSource } from './jira-source.js';

/**
 * The raw-mode unit: lands the untouched Jira JSON as newline-delimited JSON files, one per entity,
 * under `<outDir>/<site>/` (`project.ndjson`, `user.ndjson`, `issue.ndjson`; comments and worklogs stay
 * inside their issue, as Jira sent them).
 *
 * Raw data has its own path and never goes through `cdm-sink-operator/writer`: template `cdm.jdbc` has
 * `supports_raw: false` and the writer refuses `mode: "raw"` endpoints. This file therefore imports no
 * mapper, no writer and nothing from `src/` (`raw-sink.test.ts` checks the whole import graph).
 */

export interface RawUnitOptions {
  /** Root folder of the raw landing zone. */
  readonly outDir: string;
  /** Site host; one folder per site keeps two Jira sites apart. */
  readonly site: string;
}

export type RawEntity = 'project' | 'user' | 'issue';

export interface RawFileResult {
  readonly entity: RawEntity;
  readonly file: string;
  readonly records: number;
}

async function* ndjson(records: AsyncIterable<unknown>, counter: { records: number }): AsyncIterable<string> {
  for await (const record of records) {
    counter.records += 1;
    yield `${JSON.stringify(record)}\n`;
  }
}

/**
 * Each file is a full snapshot of its entity, written beside the old one and renamed over it, so a
 * reader sees the previous snapshot or the new one, never half of one; a failed run leaves no partial
 * file behind. Records stream straight from the source pages to disk (bounded memory).
 */
async function landSnapshot(file: string, records: AsyncIterable<unknown>): Promise<number> {
  const partial = `${file}.partial-${process.pid}`;
  const counter = { records: 0 };
  try {
    await pipeline(Readable.from(ndjson(records, counter)), createWriteStream(partial));
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return counter.records;
}

export async function runRawUnit(source: JiraSource, options: RawUnitOptions): Promise<RawFileResult[]> {
  const dir = path.join(options.outDir, options.site);
  await mkdir(dir, { recursive: true });
  const streams: Record<RawEntity, () => AsyncIterable<unknown>> = {
    project: () => source.projects(),
    user: () => source.users(),
    issue: () => source.issues(),
  };
  const results: RawFileResult[] = [];
  for (const entity of ['project', 'user', 'issue'] as const) {
    const file = path.join(dir, `${entity}.ndjson`);
    results.push({ entity, file, records: await landSnapshot(file, streams[entity]()) });
  }
  return results;
}
