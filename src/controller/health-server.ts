import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthChecks {
  /** Liveness: the process is working (event loop answers, informers not given up). */
  live(): boolean;
  /** Readiness: informers synced; leader or standby alike. */
  ready(): boolean;
}

export interface HealthServerOptions {
  readonly healthPort: number;
  readonly metricsPort: number;
  /** Bind address (default all interfaces, as probes and scrapes come from outside the pod). */
  readonly host?: string;
  readonly checks: HealthChecks;
  readonly registry: Registry;
}

export interface HealthServer {
  readonly healthPort: number;
  readonly metricsPort: number;
  close(): Promise<void>;
}

type Handler = (res: http.ServerResponse) => Promise<void> | void;

function check(ok: () => boolean): Handler {
  return (res) => {
    const healthy = ok();
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' }).end(healthy ? 'ok\n' : 'not ok\n');
  };
}

/**
 * `/healthz` and `/readyz` on the health port, `/metrics` on the metrics port (controller-runtime's
 * split); one server when both ports are equal. Port 0 picks a free port, reported back.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const health: Record<string, Handler> = {
    '/healthz': check(options.checks.live),
    '/readyz': check(options.checks.ready),
  };
  const metrics: Record<string, Handler> = {
    '/metrics': async (res) => {
      const body = await options.registry.metrics();
      res.writeHead(200, { 'content-type': options.registry.contentType }).end(body);
    },
  };
  const shared = options.healthPort === options.metricsPort && options.healthPort !== 0;
  const healthServer = await listen(
    { ...health, ...(shared ? metrics : {}) },
    options.healthPort,
    options.host,
  );
  const metricsServer = shared ? undefined : await listen(metrics, options.metricsPort, options.host);
  const port = (server: http.Server) => (server.address() as AddressInfo).port;
  return {
    healthPort: port(healthServer),
    metricsPort: port(metricsServer ?? healthServer),
    async close() {
      await Promise.all([healthServer, metricsServer].map((s) => s && close(s)));
    },
  };
}

function listen(
  routes: Record<string, Handler>,
  port: number,
  host: string | undefined,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const handler = req.method === 'GET' || req.method === 'HEAD' ? routes[path] : undefined;
    if (!handler) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    Promise.resolve(handler(res)).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Scrapers keep connections alive; do not let them hold the shutdown.
    server.closeAllConnections();
  });
}
