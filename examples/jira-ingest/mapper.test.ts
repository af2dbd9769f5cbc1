import { beforeAll, describe, expect, it } from 'vitest';
import { CDM_WORK_MODELS, type FieldSpec, type ModelSpec } from '../../src/models/index.js';
import { fixtureSource } from './jira-source.js';
import type { JiraIssue, JiraProject, JiraUser } from './jira-types.js';
import {
  cdmId,
  jiraTimestamp,
  mapComments,
  mapIssue,
  mapProject,
  mapUser,
  mapWorklogs,
  statusCategory,
} from './mapper.js';

const SITE = 'acme.atlassian.net';
const OPTIONS = { site: SITE };

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of source) out.push(value);
  return out;
}

let projects: JiraProject[];
let users: JiraUser[];
let issues: JiraIssue[];

beforeAll(async () => {
  const source = fixtureSource();
  projects = await collect(source.projects());
  users = await collect(source.users());
  issues = await collect(source.issues());
});

function issue(key: string): JiraIssue {
  const found = issues.find((i) => i.key === key);
  if (!found) throw new Error(`fixture issue ${key} not found`);
  return found;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Why `value` is not a valid value of `field`, checked against the model itself rather than our row types. */
function fieldProblem(field: FieldSpec, value: unknown): string | undefined {
  if (value === null) return field.nullable ? undefined : 'is null but required';
  const ok = {
    string: () => typeof value === 'string',
    boolean: () => typeof value === 'boolean',
    integer: () => Number.isInteger(value),
    number: () => typeof value === 'number' && Number.isFinite(value),
    date: () => typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value),
    timestamp: () => typeof value === 'string' && RFC3339.test(value),
    string_array: () => Array.isArray(value) && value.every((v) => typeof v === 'string'),
    json_object: () => typeof value === 'object' && !Array.isArray(value),
  }[field.type]();
  if (!ok) return `is not a ${field.type}: ${JSON.stringify(value)}`;
  if (field.check?.kind === 'oneOf' && !field.check.values.includes(value as string)) return 'is not allowed';
  if (field.check?.kind === 'minimum' && (value as number) < field.check.value) return 'is below the minimum';
  return undefined;
}

function modelProblems(model: ModelSpec, rows: readonly object[]): string[] {
  const fields = new Map(model.fields.filter((f) => !f.writerManaged).map((f) => [f.name, f]));
  return rows.flatMap((row, index) => {
    const values = row as Record<string, unknown>;
    const unknown = Object.keys(values)
      .filter((k) => !fields.has(k))
      .map((k) => `row ${index}: ${k} is not a field of ${model.id}`);
    const invalid = [...fields.values()].flatMap((f) => {
      if (!(f.name in values)) return f.nullable || f.default ? [] : [`row ${index}: ${f.name} is missing`];
      const problem = fieldProblem(f, values[f.name]);
      return problem ? [`row ${index}: ${f.name} ${problem}`] : [];
    });
    return [...unknown, ...invalid];
  });
}

describe('jiraTimestamp', () => {
  it('inserts the colon Jira leaves out of the offset, keeping the instant and the offset', () => {
    expect(jiraTimestamp('2024-03-05T10:15:30.123+0100')).toBe('2024-03-05T10:15:30.123+01:00');
    expect(jiraTimestamp('2024-03-05T10:15:30.123-0600')).toBe('2024-03-05T10:15:30.123-06:00');
    expect(jiraTimestamp('2024-03-05T10:15:30+0530')).toBe('2024-03-05T10:15:30+05:30');
  });

  it('passes RFC 3339 values and anything unrecognised through, and null stays null', () => {
    expect(jiraTimestamp('2024-03-05T09:15:30.123Z')).toBe('2024-03-05T09:15:30.123Z');
    expect(jiraTimestamp('2024-03-05T10:15:30.123+01:00')).toBe('2024-03-05T10:15:30.123+01:00');
    expect(jiraTimestamp('05/Mar/24 10:15 AM')).toBe('05/Mar/24 10:15 AM');
    expect(jiraTimestamp(null)).toBeNull();
    expect(jiraTimestamp(undefined)).toBeNull();
  });
});

describe('statusCategory', () => {
  it('maps new, indeterminate and done, and everything else to unknown', () => {
    expect(statusCategory('new')).toBe('todo');
    expect(statusCategory('indeterminate')).toBe('in_progress');
    expect(statusCategory('done')).toBe('done');
    expect(statusCategory('undefined')).toBe('unknown');
    expect(statusCategory(undefined)).toBe('unknown');
    expect(statusCategory('Done')).toBe('unknown');
  });
});

describe('cdmId', () => {
  it('is jira:<site>:<entity>:<source id>', () => {
    expect(cdmId(SITE, 'item', '10001')).toBe('jira:acme.atlassian.net:item:10001');
  });
});

describe('the mapper on the shipped fixtures', () => {
  it('produces rows every CDM model accepts: known fields only, required ones set, values typed', () => {
    const byId = new Map(CDM_WORK_MODELS.map((m) => [m.id, m]));
    const rows = {
      'cdm.work.project': projects.map((p) => mapProject(p, OPTIONS)),
      'cdm.work.user': users.map((u) => mapUser(u, OPTIONS)),
      'cdm.work.item': issues.map((i) => mapIssue(i, OPTIONS)),
      'cdm.work.comment': issues.flatMap((i) => mapComments(i, OPTIONS)),
      'cdm.work.worklog': issues.flatMap((i) => mapWorklogs(i, OPTIONS)),
    };
    expect(Object.keys(rows).sort()).toEqual([...byId.keys()].sort());
    for (const [modelId, modelRows] of Object.entries(rows)) {
      expect(modelProblems(byId.get(modelId)!, modelRows), modelId).toEqual([]);
    }
    expect(Object.values(rows).map((r) => r.length)).toEqual([2, 6, 12, 20, 15]);
  });

  it('never modifies the Jira JSON it maps', () => {
    const before = JSON.stringify(issues);
    for (const i of issues) {
      mapIssue(i, OPTIONS);
      mapComments(i, OPTIONS);
      mapWorklogs(i, OPTIONS);
    }
    expect(JSON.stringify(issues)).toBe(before);
  });

  it('maps a project with its lead, type, category and browse URL', () => {
    const sup = mapProject(projects.find((p) => p.key === 'SUP')!, OPTIONS);
    expect(sup).toMatchObject({
      cdm_id: 'jira:acme.atlassian.net:project:10100',
      source_system: 'jira',
      source_instance: SITE,
      source_project_id: '10100',
      source_project_key: 'SUP',
      name: 'Customer Support',
      lead_cdm_id: 'jira:acme.atlassian.net:user:712020:c3a9f1d4-0e8b-4b62-a1f7-5d4e9b3c6c33',
      project_type: 'service_desk',
      category: 'Operations',
      is_private: true,
      url: 'https://acme.atlassian.net/browse/SUP',
      created_at: null,
    });
    expect(sup.properties).toMatchObject({
      style: 'next-gen',
      simplified: true,
      project_category_id: '10001',
    });
  });

  it('maps users with their account type and activity; a hidden e-mail (null or "") stays null', () => {
    const rows = users.map((u) => mapUser(u, OPTIONS));
    const tomas = rows.find((u) => u.display_name === 'Tomás Álvarez')!;
    expect(tomas).toMatchObject({ email: null, account_type: 'atlassian', is_active: true, locale: 'es_ES' });
    expect(rows.find((u) => u.display_name === 'Jonas Becker')?.is_active).toBe(false);
    expect(rows.map((u) => u.account_type).sort()).toEqual([
      'app',
      'atlassian',
      'atlassian',
      'atlassian',
      'atlassian',
      'customer',
    ]);
    expect(tomas.avatar_url).toBe(users.find((u) => u.displayName === 'Tomás Álvarez')!.avatarUrls!['48x48']);
    expect(mapUser({ accountId: 'x', emailAddress: '' }, OPTIONS).email).toBeNull();
  });

  it('maps a resolved story: category, closed_at from resolutiondate, arrays, estimates, ADF text and raw ADF', () => {
    const source = issue('ENG-2');
    const row = mapIssue(source, OPTIONS);
    expect(row).toMatchObject({
      cdm_id: 'jira:acme.atlassian.net:item:10002',
      source_issue_key: 'ENG-2',
      project_cdm_id: 'jira:acme.atlassian.net:project:10000',
      parent_cdm_id: 'jira:acme.atlassian.net:item:10001',
      assignee_cdm_id: 'jira:acme.atlassian.net:user:712020:8d2b6e0f-3c41-4a7e-b5d9-7e1a0c4f2b22',
      issue_type: 'Story',
      status: 'Done',
      status_category: 'done',
      priority: 'Medium',
      resolution: 'Done',
      labels: ['cdm', 'infra'],
      components: ['Platform'],
      fix_versions: ['2024.2'],
      due_date: '2024-03-29',
      story_points: 5,
      original_estimate_seconds: 57600,
      remaining_estimate_seconds: 0,
      time_spent_seconds: 32400,
      url: 'https://acme.atlassian.net/browse/ENG-2',
      created_at: '2024-03-05T10:15:30.123+01:00',
      updated_at: '2024-03-29T09:01:33.770+01:00',
      closed_at: '2024-03-28T17:45:09.250+01:00',
    });
    expect(row.description).toBe(
      'Use the CLI to create the five cdm.work tables in the staging sink.\n\nAcceptance criteria\n\n' +
        '- apply is idempotent: a second run executes no DDL\n- every table is registered in catalog.dataset\n\n' +
        'npx cdm-sink apply -f manifests/staging/ --database-url "$STAGING_SINK_URL"',
    );
    expect(row.properties?.description_adf).toEqual(source.fields.description);
  });

  it('keeps custom fields in properties by id, except the promoted story points and empty ones', () => {
    const row = mapIssue(issue('ENG-2'), OPTIONS);
    expect(row.properties?.customfield_10020).toEqual(issue('ENG-2').fields.customfield_10020);
    expect(row.properties).toHaveProperty('customfield_10019');
    expect(row.properties).not.toHaveProperty('customfield_10016');
    expect(row.properties).not.toHaveProperty('customfield_10030');
    expect(row.properties).toMatchObject({ is_subtask: false, hierarchy_level: 0, issue_type_id: '10001' });
    const sup = mapIssue(issue('SUP-1'), OPTIONS);
    expect(sup.properties).toHaveProperty('customfield_10010.requestType.name', 'Report a system problem');
  });

  it('reads story points from the field a site configures', () => {
    const row = mapIssue(issue('ENG-2'), { site: SITE, storyPointsField: 'customfield_10019' });
    expect(row.story_points).toBeNull();
    expect(row.properties?.customfield_10016).toBe(5);
  });

  it('falls back to the status-category change for closed_at when a done status has no resolution', () => {
    const row = mapIssue(issue('ENG-8'), OPTIONS);
    expect(row).toMatchObject({
      status: "Won't Do",
      status_category: 'done',
      resolution: null,
      closed_at: '2024-05-06T11:15:40.300+02:00',
    });
  });

  it('leaves closed_at empty for an open item, even if an old resolution date is still set', () => {
    const open = issue('ENG-3');
    const reopened: JiraIssue = {
      ...open,
      fields: { ...open.fields, resolutiondate: '2024-04-30T10:00:00.000+0200' },
    };
    expect(mapIssue(reopened, OPTIONS).closed_at).toBeNull();
    expect(mapIssue(open, OPTIONS).status_category).toBe('in_progress');
  });

  it('maps a status without category to unknown, and empty fields to null or empty arrays', () => {
    const row = mapIssue(issue('SUP-4'), OPTIONS);
    expect(row).toMatchObject({
      status: 'Triage',
      status_category: 'unknown',
      priority: null,
      assignee_cdm_id: null,
      description: null,
      labels: [],
      components: [],
      closed_at: null,
    });
    expect(row.properties).not.toHaveProperty('description_adf');
    expect(mapIssue(issue('ENG-5'), OPTIONS)).toMatchObject({
      status_category: 'todo',
      assignee_cdm_id: null,
    });
  });

  it('maps comments with the project denormalised, visibility and internal notes as not public', () => {
    const rows = issues.flatMap((i) => mapComments(i, OPTIONS));
    const byId = new Map(rows.map((c) => [c.source_comment_id, c]));
    expect(byId.get('10201')).toMatchObject({
      cdm_id: 'jira:acme.atlassian.net:comment:10201',
      item_cdm_id: 'jira:acme.atlassian.net:item:10001',
      project_cdm_id: 'jira:acme.atlassian.net:project:10000',
      body: '@Priya Raman should worklogs be in scope for the first milestone? Finance asked for time per project.',
      is_public: true,
      visibility: null,
      created_at: '2024-03-06T15:02:37.880+01:00',
      updated_at: '2024-03-06T15:05:12.301+01:00',
    });
    expect(byId.get('10213')).toMatchObject({
      is_public: false,
      visibility: null,
      project_cdm_id: 'jira:acme.atlassian.net:project:10100',
    });
    expect(byId.get('10218')).toMatchObject({ is_public: false, visibility: 'role:Developers' });
    const raw = issue('ENG-1').fields.comment!.comments[1]!;
    expect(byId.get('10201')!.properties?.body_adf).toEqual(raw.body);
    expect(rows.filter((c) => c.is_public)).toHaveLength(18);
  });

  it('maps worklogs with seconds, start time, optional comment and visibility', () => {
    const rows = issues.flatMap((i) => mapWorklogs(i, OPTIONS));
    const byId = new Map(rows.map((w) => [w.source_worklog_id, w]));
    expect(byId.get('10300')).toMatchObject({
      item_cdm_id: 'jira:acme.atlassian.net:item:10002',
      project_cdm_id: 'jira:acme.atlassian.net:project:10000',
      started_at: '2024-03-11T09:00:00.000+01:00',
      time_spent_seconds: 10800,
      comment: 'Manifest and Secret for staging',
      properties: { time_spent: '3h', comment_adf: expect.objectContaining({ type: 'doc' }) },
    });
    expect(byId.get('10309')).toMatchObject({ comment: null, properties: { time_spent: '45m' } });
    expect(byId.get('10306')?.visibility).toBe('group:engineering');
    expect(byId.get('10304')?.update_author_cdm_id).toBe(
      'jira:acme.atlassian.net:user:712020:1f4c8a2e-6b0d-4e39-9b7a-2c5e8d1f0a11',
    );
    // The fixtures are consistent with Jira's own totals: an item's time spent is the sum of its worklogs.
    for (const i of issues) {
      // A bigint column takes a number or a decimal string; this mapper always sends numbers.
      const sum = mapWorklogs(i, OPTIONS).reduce((n, w) => n + Number(w.time_spent_seconds), 0);
      expect(mapIssue(i, OPTIONS).time_spent_seconds ?? 0, i.key).toBe(sum);
    }
  });
});
