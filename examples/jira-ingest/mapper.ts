import type {
  CdmJsonObject,
  CdmWorkCommentRow,
  CdmWorkItemRow,
  CdmWorkProjectRow,
  CdmWorkUserRow,
  CdmWorkWorklogRow,
} from 'cdm-sink-operator/writer';
import { adfToText } from './adf-text.js';
import type {
  JiraComment,
  JiraIssue,
  JiraIssueFields,
  JiraProject,
  JiraUser,
  JiraUserRef,
  JiraVisibility,
  JiraWorklog,
} from './jira-types.js';

/**
 * Jira Cloud REST v3 JSON → CDM work rows: pure functions, one per model. The sink library does no
 * mapping (DESIGN.md §7), so this is the part every CDM-mode worker writes for its own source.
 *
 * Conventions (notes/cdm-models-and-catalog.md B.2–B.5): `cdm_id` is `jira:<site>:<entity>:<id>` built
 * from Jira's numeric ids, never from keys, which change when an issue or project moves; references are
 * computed the same way, so an item can point at a user before that user's row exists. Rich text becomes
 * plain text in the column and stays as ADF in `properties`.
 *
 * The row types come with the writer, generated from the CDM models, so the compiler checks every field
 * the mapper sets against the model; the writer validates the rows again at run time.
 */

export type StatusCategory = CdmWorkItemRow['status_category'];

export interface JiraMapOptions {
  /** Site host, e.g. `acme.atlassian.net`: the `source_instance` and part of every `cdm_id`. */
  readonly site: string;
  /** The custom field that holds story points; it differs per site. Default `customfield_10016`. */
  readonly storyPointsField?: string;
}

export type CdmEntity = 'project' | 'user' | 'item' | 'comment' | 'worklog';

export const DEFAULT_STORY_POINTS_FIELD = 'customfield_10016';

export function cdmId(site: string, entity: CdmEntity, sourceId: string): string {
  return `jira:${site}:${entity}:${sourceId}`;
}

const JIRA_OFFSET = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2})(\d{2})$/;

/**
 * Jira writes offsets without a colon (`2024-03-05T10:15:30.123+0100`), which RFC 3339 and so the writer
 * do not accept; this inserts it and keeps the instant and the source's offset as they were. Anything
 * else passes through unchanged on purpose: a malformed value then fails the writer's validation with
 * the row and field named, instead of being guessed at here.
 */
export function jiraTimestamp(value: string): string;
export function jiraTimestamp(value: string | null | undefined): string | null;
export function jiraTimestamp(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const m = JIRA_OFFSET.exec(value);
  return m ? `${m[1]}${m[2]}:${m[3]}` : value;
}

/** Jira's `statusCategory.key` → the CDM's normalised category; Jira's "No Category" is `undefined`. */
export function statusCategory(key: string | null | undefined): StatusCategory {
  switch (key) {
    case 'new':
      return 'todo';
    case 'indeterminate':
      return 'in_progress';
    case 'done':
      return 'done';
    default:
      return 'unknown';
  }
}

function userId(site: string, user: JiraUserRef | null | undefined): string | null {
  return user?.accountId ? cdmId(site, 'user', user.accountId) : null;
}

function visibilityText(visibility: JiraVisibility | null | undefined): string | null {
  return visibility ? `${visibility.type}:${visibility.value}` : null;
}

/**
 * Drops null and undefined entries: Jira returns every custom field of the site, mostly empty. What is
 * left came from `JSON.parse` of Jira's responses, so it is plain JSON (and the writer checks it again).
 */
function compact(entries: Record<string, unknown>): CdmJsonObject {
  return Object.fromEntries(
    Object.entries(entries).filter(([, v]) => v !== null && v !== undefined),
  ) as CdmJsonObject;
}

function browseUrl(site: string, key: string): string {
  return `https://${site}/browse/${key}`;
}

export function mapProject(project: JiraProject, options: JiraMapOptions): CdmWorkProjectRow {
  const { site } = options;
  return {
    cdm_id: cdmId(site, 'project', project.id),
    source_system: 'jira',
    source_instance: site,
    source_project_id: project.id,
    source_project_key: project.key,
    name: project.name,
    // Jira sends "" for a project without a description; the CDM says "none" with null.
    description: project.description || null,
    lead_cdm_id: userId(site, project.lead),
    project_type: project.projectTypeKey ?? null,
    category: project.projectCategory?.name ?? null,
    is_private: project.isPrivate ?? null,
    url: browseUrl(site, project.key),
    archived_at: jiraTimestamp(project.archivedDate),
    // The project API exposes neither; `synced_at` tells consumers when the row last changed instead.
    created_at: null,
    updated_at: null,
    deleted_at: jiraTimestamp(project.deletedDate),
    properties: compact({
      style: project.style,
      simplified: project.simplified,
      project_category_id: project.projectCategory?.id,
      avatar_urls: project.avatarUrls,
    }),
  };
}

export function mapUser(user: JiraUser, options: JiraMapOptions): CdmWorkUserRow {
  const { site } = options;
  return {
    cdm_id: cdmId(site, 'user', user.accountId),
    source_system: 'jira',
    source_instance: site,
    source_user_id: user.accountId,
    display_name: user.displayName ?? null,
    // Privacy settings hide the address as null, as an absent field, or on some sites as "".
    email: user.emailAddress || null,
    account_type: user.accountType ?? null,
    is_active: user.active ?? null,
    time_zone: user.timeZone ?? null,
    locale: user.locale ?? null,
    avatar_url: user.avatarUrls?.['48x48'] ?? null,
    created_at: null,
    updated_at: null,
    deleted_at: null,
    properties: compact({ avatar_urls: user.avatarUrls }),
  };
}

/** Custom fields keyed by their stable id, except the one promoted to `story_points`. */
function customFields(fields: JiraIssueFields, storyPointsField: string): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(([name]) => name.startsWith('customfield_') && name !== storyPointsField),
  );
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * `resolutiondate`, or the status-category change when a workflow reaches a done status without
 * setting a resolution. An item that is not in a done category is open, whatever an old resolution
 * date says (reopened items keep it on some workflows).
 */
function closedAt(fields: JiraIssueFields, category: StatusCategory): string | null {
  if (category !== 'done') return null;
  return jiraTimestamp(fields.resolutiondate ?? fields.statuscategorychangedate ?? null);
}

export function mapIssue(issue: JiraIssue, options: JiraMapOptions): CdmWorkItemRow {
  const { site } = options;
  const storyPointsField = options.storyPointsField ?? DEFAULT_STORY_POINTS_FIELD;
  const f = issue.fields;
  const category = statusCategory(f.status.statusCategory?.key);
  return {
    cdm_id: cdmId(site, 'item', issue.id),
    source_system: 'jira',
    source_instance: site,
    source_issue_id: issue.id,
    source_issue_key: issue.key,
    project_cdm_id: cdmId(site, 'project', f.project.id),
    parent_cdm_id: f.parent?.id ? cdmId(site, 'item', f.parent.id) : null,
    reporter_cdm_id: userId(site, f.reporter),
    assignee_cdm_id: userId(site, f.assignee),
    creator_cdm_id: userId(site, f.creator),
    issue_type: f.issuetype.name,
    status: f.status.name,
    status_category: category,
    priority: f.priority?.name ?? null,
    resolution: f.resolution?.name ?? null,
    summary: f.summary,
    description: adfToText(f.description),
    labels: f.labels ?? [],
    components: (f.components ?? []).map((c) => c.name),
    fix_versions: (f.fixVersions ?? []).map((v) => v.name),
    due_date: f.duedate ?? null,
    story_points: numberOrNull(f[storyPointsField]),
    original_estimate_seconds: numberOrNull(f.timeoriginalestimate),
    remaining_estimate_seconds: numberOrNull(f.timeestimate),
    time_spent_seconds: numberOrNull(f.timespent),
    url: browseUrl(site, issue.key),
    created_at: jiraTimestamp(f.created),
    updated_at: jiraTimestamp(f.updated),
    closed_at: closedAt(f, category),
    deleted_at: null,
    properties: compact({
      ...customFields(f, storyPointsField),
      issue_type_id: f.issuetype.id,
      is_subtask: f.issuetype.subtask,
      hierarchy_level: f.issuetype.hierarchyLevel,
      status_id: f.status.id,
      status_category_changed_at: jiraTimestamp(f.statuscategorychangedate),
      description_adf: f.description,
      environment: adfToText(f.environment),
    }),
  };
}

/** The comments search embedded in the issue; a live worker pages `/issue/{id}/comment` past the first 20. */
export function mapComments(issue: JiraIssue, options: JiraMapOptions): CdmWorkCommentRow[] {
  const { site } = options;
  const itemId = cdmId(site, 'item', issue.id);
  const projectId = cdmId(site, 'project', issue.fields.project.id);
  return (issue.fields.comment?.comments ?? []).map(
    (comment: JiraComment): CdmWorkCommentRow => ({
      cdm_id: cdmId(site, 'comment', comment.id),
      source_system: 'jira',
      source_instance: site,
      source_comment_id: comment.id,
      item_cdm_id: itemId,
      project_cdm_id: projectId,
      author_cdm_id: userId(site, comment.author),
      update_author_cdm_id: userId(site, comment.updateAuthor),
      body: adfToText(comment.body),
      // Public means every viewer of the item sees it: not a service-desk internal note, not restricted.
      is_public: comment.jsdPublic !== false && !comment.visibility,
      visibility: visibilityText(comment.visibility),
      created_at: jiraTimestamp(comment.created),
      updated_at: jiraTimestamp(comment.updated),
      deleted_at: null,
      properties: compact({ body_adf: comment.body, jsd_public: comment.jsdPublic }),
    }),
  );
}

/** The worklogs embedded in the issue; a live worker pages `/issue/{id}/worklog` past the first 20. */
export function mapWorklogs(issue: JiraIssue, options: JiraMapOptions): CdmWorkWorklogRow[] {
  const { site } = options;
  const itemId = cdmId(site, 'item', issue.id);
  const projectId = cdmId(site, 'project', issue.fields.project.id);
  return (issue.fields.worklog?.worklogs ?? []).map(
    (worklog: JiraWorklog): CdmWorkWorklogRow => ({
      cdm_id: cdmId(site, 'worklog', worklog.id),
      source_system: 'jira',
      source_instance: site,
      source_worklog_id: worklog.id,
      item_cdm_id: itemId,
      project_cdm_id: projectId,
      author_cdm_id: userId(site, worklog.author),
      update_author_cdm_id: userId(site, worklog.updateAuthor),
      started_at: jiraTimestamp(worklog.started),
      time_spent_seconds: worklog.timeSpentSeconds,
      comment: adfToText(worklog.comment),
      visibility: visibilityText(worklog.visibility),
      created_at: jiraTimestamp(worklog.created),
      updated_at: jiraTimestamp(worklog.updated),
      deleted_at: null,
      properties: compact({ comment_adf: worklog.comment, time_spent: worklog.timeSpent }),
    }),
  );
}
