/**
 * Deterministic, realistic `cdm.work.item` rows for the writer benchmark and its tests. Any row can be
 * regenerated from its number alone, so a test can checksum the input without keeping it in memory.
 *
 * Shape (per the benchmark brief): summary ~60 chars, description ~400 chars (10 % null), 0–4 labels,
 * three timestamps, ~200-byte `properties`. Text includes what breaks naive encoders: tabs, newlines,
 * CR, backslashes, quotes, braces, commas, a literal `\N`, the labels `NULL` and `''`, and emoji.
 */

import type { CdmWorkItemRow } from '../../src/writer/index.js';
import { prng } from '../../test/support/prng.js';

const WORDS = (
  'deploy cache timeout login page error report export billing invoice search index queue retry ' +
  'mobile layout crash upload avatar theme dark mode sync webhook token expired flaky test build ' +
  'pipeline docker helm chart migration schema column rollback audit trail metrics latency spike'
).split(' ');
const NASTY = [
  'C:\\new\\table',
  'tab\there',
  'line\nbreak',
  'cr\rhere',
  '"quoted"',
  '{braces}',
  'a,b',
  '\\N',
  '🚀 launch',
];
const LABELS = [
  'backend',
  'frontend',
  'NULL',
  '',
  'needs-triage',
  'a,b',
  'p1',
  'tech-debt',
  'customer',
  '"q"',
];
const TYPES = ['Bug', 'Story', 'Task', 'Epic', 'Sub-task'];
const STATUSES: [string, CdmWorkItemRow['status_category']][] = [
  ['To Do', 'todo'],
  ['In Progress', 'in_progress'],
  ['In Review', 'in_progress'],
  ['Done', 'done'],
  ['Closed', 'done'],
  ['Triage', 'unknown'],
];

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

function words(random: () => number, chars: number): string {
  // join() yields a flat string, as JSON.parse would; += would build a rope that every consumer flattens.
  const parts: string[] = [];
  let length = -1;
  while (length < chars) {
    const word = random() < 0.03 ? pick(random, NASTY) : pick(random, WORDS);
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ');
}

const BASE_TIME = Date.UTC(2023, 0, 1);

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export interface RowOptions {
  /** Changes the seed of every row (a different data set). */
  readonly seed?: number;
  /** Row version: a higher version changes summary, status and `updated_at` (later). */
  readonly version?: number;
}

/** The `cdm_id` of row `n`. */
export function cdmIdOf(n: number): string {
  return `jira:acme.atlassian.net:item:${100000 + n}`;
}

/**
 * Row number `n` of the data set: a `CdmWorkItemRow` with every field set, typed as built (so callers
 * can read its fields without checking for absent ones).
 */
export function workItemRow(n: number, options: RowOptions = {}) {
  const version = options.version ?? 0;
  const random = prng((options.seed ?? 1) * 0x9e3779b1 + n * 2654435761);
  const created = BASE_TIME + Math.floor(random() * 300 * 86_400_000);
  const updated = created + Math.floor(random() * 30 * 86_400_000) + version * 3_600_000;
  const [status, category] = pick(random, STATUSES);
  const done = category === 'done';
  const labels = Array.from({ length: Math.floor(random() * 5) }, () => pick(random, LABELS));
  const summary = words(random, 55);
  return {
    cdm_id: cdmIdOf(n),
    source_system: 'jira',
    source_instance: 'acme.atlassian.net',
    source_issue_id: String(100000 + n),
    source_issue_key: `P${n % 50}-${n}`,
    project_cdm_id: `jira:acme.atlassian.net:project:${n % 50}`,
    parent_cdm_id: random() < 0.2 ? cdmIdOf(Math.floor(random() * Math.max(n, 1))) : null,
    reporter_cdm_id: `jira:acme.atlassian.net:user:${Math.floor(random() * 500)}`,
    assignee_cdm_id: random() < 0.8 ? `jira:acme.atlassian.net:user:${Math.floor(random() * 500)}` : null,
    creator_cdm_id: `jira:acme.atlassian.net:user:${Math.floor(random() * 500)}`,
    issue_type: pick(random, TYPES),
    status: version === 0 ? status : 'Reopened',
    status_category: version === 0 ? category : 'in_progress',
    priority: pick(random, ['Highest', 'High', 'Medium', 'Low']),
    resolution: done ? 'Fixed' : null,
    summary: version === 0 ? summary : `${summary} (v${version})`,
    description: random() < 0.1 ? null : words(random, 400),
    labels,
    components: random() < 0.5 ? [pick(random, ['api', 'web', 'ios', 'android'])] : [],
    fix_versions: random() < 0.3 ? [`1.${Math.floor(random() * 20)}.0`] : [],
    due_date: random() < 0.3 ? iso(updated + 14 * 86_400_000).slice(0, 10) : null,
    story_points: random() < 0.5 ? pick(random, [0.5, 1, 2, 3, 5, 8, 13]) : null,
    original_estimate_seconds: random() < 0.4 ? Math.floor(random() * 100) * 3600 : null,
    remaining_estimate_seconds: null,
    time_spent_seconds: random() < 0.4 ? Math.floor(random() * 50) * 1800 : null,
    url: `https://acme.atlassian.net/browse/P${n % 50}-${n}`,
    created_at: iso(created),
    updated_at: iso(updated),
    closed_at: done ? iso(updated) : null,
    properties: {
      customfield_10010: `sprint-${Math.floor(random() * 40)}`,
      customfield_10020: {
        id: String(10000 + Math.floor(random() * 5)),
        value: pick(random, ['High', 'Low']),
      },
      rank: `0|i${Math.floor(random() * 1e6).toString(36)}:`,
      flagged: random() < 0.05,
      team: pick(random, ['Platform', 'Payments', 'Mobile', 'Growth']),
      environment: pick(random, ['prod', 'staging', 'dev']),
      epic_color: 'ghx-label-4',
    },
  } satisfies CdmWorkItemRow;
}

/** `count` rows from `start`, streamed lazily; `changedEvery: 10` gives every 10th row version + 1. */
export async function* workItemRows(
  count: number,
  options: RowOptions & { start?: number; changedEvery?: number } = {},
): AsyncGenerator<ReturnType<typeof workItemRow>> {
  const start = options.start ?? 0;
  for (let n = start; n < start + count; n++) {
    const changed = options.changedEvery !== undefined && n % options.changedEvery === 0;
    yield workItemRow(n, { ...options, version: (options.version ?? 0) + (changed ? 1 : 0) });
  }
}
