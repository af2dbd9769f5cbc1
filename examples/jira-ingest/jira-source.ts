import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type {
  JiraIssue,
  JiraProject,
  JiraProjectSearchPage,
  JiraSearchPage,
  JiraUser,
} from './jira-types.js';

/**
 * Where a worker reads Jira from. Every stream is an async iterable read page by page, so the worker
 * holds one page at a time however big the site is, exactly as it would against the live API.
 */
export interface JiraSource {
  projects(): AsyncIterable<JiraProject>;
  users(): AsyncIterable<JiraUser>;
  issues(): AsyncIterable<JiraIssue>;
}

/** The recorded responses shipped next to this file. */
export const FIXTURES_DIR = path.join(import.meta.dirname, 'fixtures');

/** File names of the recorded responses, by the endpoint that produced them. */
export const FIXTURE_FILES = Object.freeze({
  projects: 'project-search.json',
  users: 'users-search.json',
  /** First page of `/search/jql`; later pages are `search-jql.<nextPageToken>.json`. */
  issues: 'search-jql.json',
});

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8'));
}

/**
 * Replays recorded Jira Cloud responses from `dir`, following `nextPageToken` through the page files
 * as a client follows it through the API.
 *
 * Assumptions: the files are trusted recordings, so they are cast to their response types without
 * validation; a client of the live API should check the shapes it relies on.
 */
export function fixtureSource(dir: string = FIXTURES_DIR): JiraSource {
  return {
    async *projects() {
      const page = (await readJson(path.join(dir, FIXTURE_FILES.projects))) as JiraProjectSearchPage;
      yield* page.values;
    },
    async *users() {
      yield* (await readJson(path.join(dir, FIXTURE_FILES.users))) as JiraUser[];
    },
    async *issues() {
      let file: string = FIXTURE_FILES.issues;
      for (;;) {
        const page = (await readJson(path.join(dir, file))) as JiraSearchPage;
        yield* page.issues;
        if (page.isLast || !page.nextPageToken) return;
        // The token names the next file; never let it name a path outside the fixture folder.
        file = `search-jql.${path.basename(page.nextPageToken)}.json`;
      }
    },
  };
}
