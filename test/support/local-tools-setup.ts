import type { TestProject } from 'vitest/node';
import { buildFluxHealth, ensureDebianTools } from './tools.js';

/**
 * promtool, lua5.4 and jq, which the operations-pack tests run against alerts.yaml, health.lua and the
 * CI example; and Flux's status reader for the Flux example's health checks.
 */
export default async function setup(project: TestProject): Promise<void> {
  await ensureDebianTools();
  project.provide('fluxHealth', await buildFluxHealth());
}
