import type { TestProject } from 'vitest/node';
import { buildTools } from './tools.js';

/** helm and the prometheus-operator CRDs for the chart tests, built once per run (cached across runs). */
export default async function setup(project: TestProject): Promise<void> {
  const started = Date.now();
  const tools = await buildTools();
  process.stderr.write(`tools: helm and monitoring CRDs ready in ${Date.now() - started} ms\n`);
  project.provide('tools', tools);
}
