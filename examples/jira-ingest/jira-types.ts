/**
 * The parts of Jira Cloud REST v3 responses this example reads. Jira sends far more; everything else is
 * carried along untouched (`[key: string]: unknown`), which is also how custom fields reach `properties`.
 */

/** An Atlassian Document Format node (rich text in `description`, comment `body`, worklog `comment`). */
export interface AdfNode {
  readonly type: string;
  /** Set on the `doc` root only. */
  readonly version?: number;
  readonly text?: string;
  readonly attrs?: Readonly<Record<string, unknown>>;
  readonly marks?: readonly AdfMark[];
  readonly content?: readonly AdfNode[];
}

export interface AdfMark {
  readonly type: string;
  readonly attrs?: Readonly<Record<string, unknown>>;
}

/** A user as embedded in issues, comments and worklogs (only `accountId` is relied on). */
export interface JiraUserRef {
  readonly accountId: string;
  readonly displayName?: string;
  readonly [key: string]: unknown;
}

/** `GET /rest/api/3/users/search` returns an array of these. */
export interface JiraUser {
  readonly accountId: string;
  readonly accountType?: string;
  readonly displayName?: string;
  /** Null or absent when the user's privacy settings hide it. */
  readonly emailAddress?: string | null;
  readonly active?: boolean;
  readonly timeZone?: string;
  readonly locale?: string;
  readonly avatarUrls?: Readonly<Record<string, string>>;
  readonly [key: string]: unknown;
}

/** One element of `values[]` of `GET /rest/api/3/project/search?expand=description,lead`. */
export interface JiraProject {
  readonly id: string;
  readonly key: string;
  readonly name: string;
  readonly description?: string | null;
  readonly lead?: JiraUserRef | null;
  readonly projectTypeKey?: string;
  readonly projectCategory?: { readonly id: string; readonly name: string } | null;
  readonly isPrivate?: boolean;
  readonly style?: string;
  readonly simplified?: boolean;
  readonly archived?: boolean;
  readonly archivedDate?: string | null;
  readonly deleted?: boolean;
  readonly deletedDate?: string | null;
  readonly avatarUrls?: Readonly<Record<string, string>>;
  readonly [key: string]: unknown;
}

export interface JiraProjectSearchPage {
  readonly values: readonly JiraProject[];
  readonly isLast?: boolean;
  readonly nextPage?: string;
}

export interface JiraVisibility {
  readonly type: string;
  readonly value: string;
  readonly identifier?: string;
}

export interface JiraComment {
  readonly id: string;
  readonly author?: JiraUserRef | null;
  readonly updateAuthor?: JiraUserRef | null;
  readonly body?: AdfNode | null;
  readonly created: string;
  readonly updated: string;
  /** Jira Service Management: false for internal notes; true everywhere else. */
  readonly jsdPublic?: boolean;
  readonly visibility?: JiraVisibility | null;
  readonly [key: string]: unknown;
}

export interface JiraWorklog {
  readonly id: string;
  readonly issueId?: string;
  readonly author?: JiraUserRef | null;
  readonly updateAuthor?: JiraUserRef | null;
  readonly comment?: AdfNode | null;
  readonly started: string;
  readonly timeSpent?: string;
  readonly timeSpentSeconds: number;
  readonly created: string;
  readonly updated: string;
  readonly visibility?: JiraVisibility | null;
  readonly [key: string]: unknown;
}

export interface JiraNamed {
  readonly id?: string;
  readonly name: string;
  readonly [key: string]: unknown;
}

export interface JiraIssueFields {
  readonly summary: string;
  readonly description?: AdfNode | null;
  readonly issuetype: JiraNamed & { readonly subtask?: boolean; readonly hierarchyLevel?: number };
  readonly status: JiraNamed & {
    readonly statusCategory?: { readonly key?: string; readonly name?: string };
  };
  readonly priority?: JiraNamed | null;
  readonly resolution?: JiraNamed | null;
  readonly labels?: readonly string[];
  readonly components?: readonly JiraNamed[];
  readonly fixVersions?: readonly JiraNamed[];
  readonly duedate?: string | null;
  readonly timeoriginalestimate?: number | null;
  readonly timeestimate?: number | null;
  readonly timespent?: number | null;
  readonly created: string;
  readonly updated: string;
  readonly resolutiondate?: string | null;
  readonly statuscategorychangedate?: string | null;
  readonly reporter?: JiraUserRef | null;
  readonly assignee?: JiraUserRef | null;
  readonly creator?: JiraUserRef | null;
  readonly parent?: { readonly id: string; readonly key?: string } | null;
  readonly project: { readonly id: string; readonly key: string };
  readonly environment?: AdfNode | null;
  /** Embedded by search; Jira includes at most the first 20 of each (see `total`). */
  readonly comment?: { readonly comments: readonly JiraComment[]; readonly total?: number };
  readonly worklog?: { readonly worklogs: readonly JiraWorklog[]; readonly total?: number };
  /** `customfield_*` and every other field the search returned. */
  readonly [key: string]: unknown;
}

export interface JiraIssue {
  readonly id: string;
  readonly key: string;
  readonly self?: string;
  readonly fields: JiraIssueFields;
}

/** `GET /rest/api/3/search/jql`: cursor pagination through `nextPageToken`. */
export interface JiraSearchPage {
  readonly issues: readonly JiraIssue[];
  readonly nextPageToken?: string;
  readonly isLast?: boolean;
}
