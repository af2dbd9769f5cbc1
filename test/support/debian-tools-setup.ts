import { ensureDebianTools } from './tools.js';

/** promtool and lua5.4, which the operations-pack tests run against alerts.yaml and health.lua. */
export default async function setup(): Promise<void> {
  await ensureDebianTools();
}
