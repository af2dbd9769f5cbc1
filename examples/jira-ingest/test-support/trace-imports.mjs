// Loaded with `node --import <this file>` by e2e.test.ts: appends the URL of every module the process
// resolves to the file named by JIRA_INGEST_TRACE_FILE. It is an independent witness of what a worker
// run actually loads, where reading the source would only show what it seems to import.
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

// The same file serves as the hooks module, which Node loads again on its hooks thread.
if (isMainThread) register(import.meta.url, { data: { file: process.env.JIRA_INGEST_TRACE_FILE } });

let traceFile;

/** @param {{ file?: string } | undefined} data */
export function initialize(data) {
  traceFile = data?.file;
}

/**
 * @param {string} specifier
 * @param {unknown} context
 * @param {(specifier: string, context: unknown) => Promise<{ url: string }>} nextResolve
 */
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (traceFile) appendFileSync(traceFile, `${result.url}\n`);
  return result;
}
