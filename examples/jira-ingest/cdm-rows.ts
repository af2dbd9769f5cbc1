/**
 * CDM rows as this example's mapper produces them: one interface per model of `src/models`, written out
 * so the mapper is type-checked field by field. The writer validates rows against the models themselves
 * at run time, and `mapper.test.ts` checks these shapes against the model field lists, so the two cannot
 * drift apart unnoticed. Timestamps are RFC 3339 strings, dates `YYYY-MM-DD`.
 */

export type StatusCategory = 'todo' | 'in_progress' | 'done' | 'unknown';

/** A JSON object; the writer checks that it is plain JSON that jsonb stores unchanged. */
export type Properties = Readonly<Record<string, unknown>>;

interface SourceColumns {
  readonly cdm_id: string;
  readonly source_system: 'jira';
  readonly source_instance: string;
  readonly properties: Properties;
}

export interface WorkProjectRow extends SourceColumns {
  readonly source_project_id: string;
  readonly source_project_key: string;
  readonly name: string;
  readonly description: string | null;
  readonly lead_cdm_id: string | null;
  readonly project_type: string | null;
  readonly category: string | null;
  readonly is_private: boolean | null;
  readonly url: string;
  readonly archived_at: string | null;
  readonly created_at: string | null;
  readonly updated_at: string | null;
  readonly deleted_at: string | null;
}

export interface WorkUserRow extends SourceColumns {
  readonly source_user_id: string;
  readonly display_name: string | null;
  readonly email: string | null;
  readonly account_type: string | null;
  readonly is_active: boolean | null;
  readonly time_zone: string | null;
  readonly locale: string | null;
  readonly avatar_url: string | null;
  readonly created_at: string | null;
  readonly updated_at: string | null;
  readonly deleted_at: string | null;
}

export interface WorkItemRow extends SourceColumns {
  readonly source_issue_id: string;
  readonly source_issue_key: string;
  readonly project_cdm_id: string;
  readonly parent_cdm_id: string | null;
  readonly reporter_cdm_id: string | null;
  readonly assignee_cdm_id: string | null;
  readonly creator_cdm_id: string | null;
  readonly issue_type: string;
  readonly status: string;
  readonly status_category: StatusCategory;
  readonly priority: string | null;
  readonly resolution: string | null;
  readonly summary: string;
  readonly description: string | null;
  readonly labels: readonly string[];
  readonly components: readonly string[];
  readonly fix_versions: readonly string[];
  readonly due_date: string | null;
  readonly story_points: number | null;
  readonly original_estimate_seconds: number | null;
  readonly remaining_estimate_seconds: number | null;
  readonly time_spent_seconds: number | null;
  readonly url: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly closed_at: string | null;
  readonly deleted_at: string | null;
}

export interface WorkCommentRow extends SourceColumns {
  readonly source_comment_id: string;
  readonly item_cdm_id: string;
  readonly project_cdm_id: string;
  readonly author_cdm_id: string | null;
  readonly update_author_cdm_id: string | null;
  readonly body: string | null;
  readonly is_public: boolean;
  readonly visibility: string | null;
  readonly created_at: string;
  readonly updated_at: string;
  readonly deleted_at: string | null;
}

export interface WorkWorklogRow extends SourceColumns {
  readonly source_worklog_id: string;
  readonly item_cdm_id: string;
  readonly project_cdm_id: string;
  readonly author_cdm_id: string | null;
  readonly update_author_cdm_id: string | null;
  readonly started_at: string;
  readonly time_spent_seconds: number;
  readonly comment: string | null;
  readonly visibility: string | null;
  readonly created_at: string;
  readonly updated_at: string;
  readonly deleted_at: string | null;
}
