import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubePorts } from '../../src/controller/kube-clients.js';
import { makeCertificates } from '../support/control-plane/certificates.js';

/**
 * The controller's API calls over TLS, as against a real API server: every call used to open a new
 * connection (client-node 1.4 makes an https.Agent per request), a handshake each, which cost the
 * controller more CPU than its reconciles did against kube-apiserver (bench/controller.ts).
 */
describe('Kubernetes API calls over TLS', () => {
  let dir: string;
  let server: Server;
  let handshakes = 0;
  let kubeConfig: KubeConfig;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kube-tls-'));
    const certs = await makeCertificates(dir);
    server = createServer(
      { key: await readFile(certs.servingKey), cert: await readFile(certs.servingCert) },
      (req, res) => {
        const name = req.url?.split('/').at(-1);
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'ns' }, data: {} }),
        );
      },
    );
    server.on('secureConnection', () => handshakes++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: `https://127.0.0.1:${port}`,
          caData: (await readFile(certs.servingCa)).toString('base64'),
        },
      ],
      users: [{ name: 'u', token: 'a-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('reuse one connection for sequential calls instead of a handshake each', async () => {
    const ports = createKubePorts(kubeConfig);
    for (let i = 0; i < 20; i++)
      expect((await ports.secrets.read('ns', `s${i}`))?.metadata?.name).toBe(`s${i}`);
    expect(handshakes).toBe(1);
  });
});
