import { existsSync } from 'node:fs';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { installLastResort } from './last-resort.js';
import { createLogger } from './logger.js';
import { type ControllerFlags, parseControllerFlags, USAGE, UsageError } from './options.js';
import { type RunningController, startController } from './start-controller.js';

/** After an error nobody handled: how long releasing the lease may take before the process exits anyway. */
const FATAL_SHUTDOWN_MS = 10_000;

/**
 * `--kubeconfig`, else the first file in `KUBECONFIG`, else in-cluster (a pod's service account),
 * else client-node's default (`~/.kube/config`).
 */
export function loadKubeConfig(
  flags: Pick<ControllerFlags, 'kubeconfig'>,
  env: NodeJS.ProcessEnv,
): KubeConfig {
  const kubeConfig = new KubeConfig();
  const fromEnv = env.KUBECONFIG?.split(path.delimiter).find((file) => file && existsSync(file));
  const file = flags.kubeconfig ?? fromEnv;
  if (file) kubeConfig.loadFromFile(file);
  else if (env.KUBERNETES_SERVICE_HOST) kubeConfig.loadFromCluster();
  else kubeConfig.loadFromDefault();
  return kubeConfig;
}

/** `--lease-namespace` / `POD_NAMESPACE`, else the kubeconfig's (in-cluster: the service account's). */
function leaseNamespace(flags: ControllerFlags, kubeConfig: KubeConfig): string {
  if (flags.leaseNamespace) return flags.leaseNamespace;
  const context = kubeConfig.getContextObject(kubeConfig.getCurrentContext());
  return context?.namespace ?? 'default';
}

/** Resolves on the first SIGTERM or SIGINT; a second one exits at once. */
function shutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.once('SIGTERM', () => process.exit(143));
      process.once('SIGINT', () => process.exit(130));
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/**
 * `cdm-sink controller`: runs until SIGTERM/SIGINT, then shuts down gracefully.
 * Exit codes: 0 after a clean shutdown, 1 when the controller could not start or an error escaped every
 * handler (after releasing the lease), 2 for bad flags.
 */
export async function runControllerCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let flags: ControllerFlags | 'help';
  try {
    flags = parseControllerFlags(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`cdm-sink controller: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (flags === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const logger = createLogger({ level: flags.logLevel });
  let controller: RunningController | undefined;
  const removeLastResort = installLastResort(process, {
    logger,
    shutDown: async () => {
      controller?.markFailed();
      await controller?.stop({ release: true, drain: false });
    },
    exit: (code) => {
      logger.flush();
      process.exit(code);
    },
    timeoutMs: FATAL_SHUTDOWN_MS,
  });
  try {
    const kubeConfig = loadKubeConfig(flags, env);
    controller = await startController({
      kubeConfig,
      namespaces: flags.namespaces,
      concurrency: flags.concurrency,
      resyncPeriodMs: flags.resyncPeriodMs,
      metricsPort: flags.metricsPort,
      healthPort: flags.healthPort,
      catalogUrl: flags.catalogUrl,
      identity: flags.identity,
      leaderElection: flags.leaderElect
        ? {
            leaseName: flags.leaseName,
            leaseNamespace: leaseNamespace(flags, kubeConfig),
            leaseDurationMs: flags.leaseDurationMs,
            renewDeadlineMs: flags.renewDeadlineMs,
            retryPeriodMs: flags.retryPeriodMs,
          }
        : undefined,
      shutdownTimeoutMs: flags.shutdownTimeoutMs,
      logger,
      defaultMetrics: true,
    });
    const signal = await shutdownSignal();
    logger.info({ signal }, 'received signal');
    await controller.stop();
    return 0;
  } catch (error) {
    logger.fatal({ err: error }, 'controller failed to start');
    return 1;
  } finally {
    removeLastResort();
    logger.flush();
  }
}
