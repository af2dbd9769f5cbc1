import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BUILD_SCRIPT = fileURLToPath(new URL('../../../scripts/control-plane/build.sh', import.meta.url));

export interface ControlPlaneBinaries {
  readonly dir: string;
  readonly kubeApiserver: string;
  readonly etcd: string;
  readonly kubectl: string;
}

/**
 * The folder scripts/control-plane/build.sh names: KUBEBUILDER_ASSETS when set, else the cache, built
 * there first from Go modules when empty (its progress goes to our stderr).
 */
export async function controlPlaneBinaries(): Promise<ControlPlaneBinaries> {
  const dir = await new Promise<string>((resolve, reject) => {
    const child = spawn(BUILD_SCRIPT, [], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(out.trim().split('\n').at(-1) ?? '')
        : reject(new Error(`${BUILD_SCRIPT} failed (exit ${code}); see its message above`)),
    );
  });
  return {
    dir,
    kubeApiserver: path.join(dir, 'kube-apiserver'),
    etcd: path.join(dir, 'etcd'),
    kubectl: path.join(dir, 'kubectl'),
  };
}
