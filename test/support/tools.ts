import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './cli.js';

const run = promisify(execFile);

/** What the cluster tests get through `inject('tools')`: programs built from Go modules, cached outside the repo. */
export interface ToolsContext {
  /** A helm v3 binary (scripts/tools/build-helm.sh; CDM_HELM overrides). */
  readonly helm: string;
  /** A folder with the ServiceMonitor, PodMonitor and PrometheusRule CRDs (scripts/tools/build-monitoring-crds.sh). */
  readonly monitoringCrds: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    tools: ToolsContext;
    /** flux-health (scripts/tools/flux-health/): Flux's status reader for `healthCheckExprs`. */
    fluxHealth: string;
  }
}

/** Runs one of scripts/tools/; its stdout is a path, its stderr the build log, shown when it fails. */
async function tool(script: string): Promise<string> {
  try {
    const { stdout } = await run(path.join(REPO, 'scripts/tools', script), [], {
      cwd: REPO,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout.trim();
  } catch (error) {
    const { stderr = '' } = error as { stderr?: string };
    throw new Error(`scripts/tools/${script} failed:\n${stderr}`);
  }
}

export async function buildTools(): Promise<ToolsContext> {
  // One after the other: each is a Go build, and two at once on 2 cores only make both slower.
  const helm = await tool('build-helm.sh');
  const monitoringCrds = await tool('build-monitoring-crds.sh');
  return { helm, monitoringCrds };
}

export function buildFluxHealth(): Promise<string> {
  return tool('build-flux-health.sh');
}

/** promtool, lua5.4 and jq for the operations-pack tests: installed from Debian's packages when missing and possible. */
export async function ensureDebianTools(): Promise<void> {
  await tool('install-debian-packages.sh');
}
