import { type CdmModelId, CdmSinkWriter, type RowOf, type WriteResult } from 'cdm-sink-operator/writer';
import type { JiraSource } from './jira-source.js';
import { type JiraMapOptions, mapComments, mapIssue, mapProject, mapUser, mapWorklogs } from './mapper.js';
import { progressLogger } from './progress.js';
import type { SinkManifest } from './provision.js';

/**
 * The CDM-mode unit: map Jira JSON to CDM rows and write them through `cdm-sink-operator/writer`.
 * Only `worker.ts` loads this file, and only for a unit in `mode: "cdm"`, so a raw-mode run never
 * loads the writer at all.
 */

export interface CdmUnitOptions {
  readonly databaseUrl: string;
  readonly sink: SinkManifest;
  readonly mapping: JiraMapOptions;
  /** `skip` writes the valid rows and reports the rest; `reject` fails the batch that holds one. */
  readonly onInvalidRow: 'reject' | 'skip';
  /** Where to print a progress line every few seconds while a model is written; none when absent. */
  readonly logProgress?: (line: string) => void;
}

/** The models in load order: referenced rows first, as the notes recommend (references are soft anyway). */
export const LOAD_ORDER: readonly CdmModelId[] = [
  'cdm.work.project',
  'cdm.work.user',
  'cdm.work.item',
  'cdm.work.comment',
  'cdm.work.worklog',
];

async function* mapEach<T, R>(source: AsyncIterable<T>, map: (value: T) => R): AsyncIterable<R> {
  for await (const value of source) yield map(value);
}

async function* flatMapEach<T, R>(
  source: AsyncIterable<T>,
  map: (value: T) => readonly R[],
): AsyncIterable<R> {
  for await (const value of source) yield* map(value);
}

/**
 * Writes every model the manifest provisions, in `LOAD_ORDER`, streaming: each model re-reads the
 * source page by page, so memory stays at one page plus the writer's bounded batches. (Comments and worklogs come from the issues search, where
 * Jira embeds them; a live worker would fetch the ones beyond the first 20 per issue separately.)
 *
 * Errors: `NotProvisionedError` when the tables are missing; writer errors as they come.
 */
export async function runCdmUnit(source: JiraSource, options: CdmUnitOptions): Promise<WriteResult[]> {
  const { mapping } = options;
  const writer = CdmSinkWriter.fromEndpoint({
    templateId: 'cdm.jdbc',
    mode: 'cdm',
    parameters: {
      connection_url: options.databaseUrl,
      schema: options.sink.schema,
      table_prefix: options.sink.tablePrefix,
      models: options.sink.models,
    },
  });
  // Each model's rows, typed by the writer's generated row types.
  const streams: { readonly [M in CdmModelId]: () => AsyncIterable<RowOf<M>> } = {
    'cdm.work.project': () => mapEach(source.projects(), (p) => mapProject(p, mapping)),
    'cdm.work.user': () => mapEach(source.users(), (u) => mapUser(u, mapping)),
    'cdm.work.item': () => mapEach(source.issues(), (i) => mapIssue(i, mapping)),
    'cdm.work.comment': () => flatMapEach(source.issues(), (i) => mapComments(i, mapping)),
    'cdm.work.worklog': () => flatMapEach(source.issues(), (i) => mapWorklogs(i, mapping)),
  };
  // The manifest may provision a subset; those are the models this unit writes, still in load order.
  const models = LOAD_ORDER.filter((m) => options.sink.models.includes(m));
  try {
    // One read-only check up front names every missing table at once, before any row is written.
    await writer.assertProvisioned(models);
    const results: WriteResult[] = [];
    for (const modelId of models) {
      results.push(
        await writer.write(modelId, streams[modelId](), {
          onInvalidRow: options.onInvalidRow,
          ...(options.logProgress ? { onProgress: progressLogger(options.logProgress) } : {}),
        }),
      );
    }
    return results;
  } finally {
    await writer.close();
  }
}
