/**
 * Child-process probe: writes a long generated stream through the writer and reports its peak RSS, so a
 * test or benchmark can check that memory stays bounded without its own heap distorting the number.
 *
 * Usage: `PROBE_DATABASE_URL=… PROBE_ROWS=2000000 PROBE_MODEL=cdm.work.user node --import tsx bench/writer/memory-probe.ts`
 * (`PROBE_SCHEMA`, default `cdm_work`; `PROBE_PREPARE_THREADS` sets the writer's `prepareThreads`, unset
 * leaves its default). Prints one JSON line: `{ rows, seconds, cpuSeconds, peakRssMb, result }`, where
 * `cpuSeconds` is the process's CPU (all threads) during the write.
 */
import { CdmSinkWriter, type CdmWorkUserRow, type FromEndpointOptions } from '../../src/writer/index.js';
import { workItemRows } from './rows.js';

/** Small `cdm.work.user` rows (~350 bytes), so millions of them write in about a minute. */
async function* userRows(count: number): AsyncGenerator<CdmWorkUserRow> {
  for (let n = 0; n < count; n++) {
    yield {
      cdm_id: `jira:acme.atlassian.net:user:${n}`,
      source_system: 'jira',
      source_instance: 'acme.atlassian.net',
      source_user_id: `5b10ac8d82e05b22cc7d${n.toString(16).padStart(8, '0')}`,
      display_name: `User Number ${n}`,
      email: n % 3 === 0 ? null : `user${n}@example.com`,
      account_type: 'atlassian',
      is_active: n % 7 !== 0,
      time_zone: 'Europe/Berlin',
      locale: 'en_US',
      avatar_url: `https://avatars.example.com/${n}.png`,
      created_at: new Date(1_600_000_000_000 + n * 1000).toISOString(),
      updated_at: new Date(1_700_000_000_000 + n * 1000).toISOString(),
      properties: { groups: ['jira-software-users'], n },
    };
  }
}

async function main(): Promise<void> {
  const url = process.env.PROBE_DATABASE_URL;
  if (!url) throw new Error('PROBE_DATABASE_URL is required');
  const count = Number(process.env.PROBE_ROWS ?? 2_000_000);
  const modelId = process.env.PROBE_MODEL ?? 'cdm.work.user';
  const schema = process.env.PROBE_SCHEMA ?? 'cdm_work';
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const threads = process.env.PROBE_PREPARE_THREADS;
  const tuning: Record<string, unknown> = threads ? { prepareThreads: Number(threads) } : {};
  const writer = CdmSinkWriter.fromEndpoint(
    { templateId: 'cdm.jdbc', parameters: { connection_url: url, schema, models: [modelId] } },
    // Cast: `prepareThreads` (the worker pool) may not be in `WriterTuning` yet; it is only set when asked.
    tuning as FromEndpointOptions,
  );
  const cpu = process.cpuUsage();
  const started = performance.now();
  // The probe generates rows of these two models only; another model fails as not enabled.
  const result =
    modelId === 'cdm.work.item'
      ? await writer.write(modelId, workItemRows(count))
      : await writer.write('cdm.work.user', userRows(count));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await writer.close();
  clearInterval(sampler);
  // maxRSS (kB) is the kernel's own high-water mark, so short spikes between samples count too.
  const peakRss = Math.max(peak, process.resourceUsage().maxRSS * 1024);
  process.stdout.write(
    `${JSON.stringify({ rows: count, seconds, cpuSeconds: (used.user + used.system) / 1e6, peakRssMb: Math.round(peakRss / 2 ** 20), result: { ...result, rejected: result.rejected.length } })}\n`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
