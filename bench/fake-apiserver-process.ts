import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startFakeApiServer } from '../test/support/fake-apiserver/index.js';

/**
 * The fake API server in a process of its own, so the controller benchmark measures the controller's
 * memory and CPU, not the fake's. Prints `{"url": …}` on one line, then answers each `requests` line on
 * stdin with a count of the requests seen so far by `verb resource/subresource`; exits when stdin closes.
 */
const crd = fileURLToPath(new URL('../crds/cdm.nucleus.io_cdmsinkprovisions.yaml', import.meta.url));
const api = await startFakeApiServer({ crds: [crd], historyLimit: 50_000, bookmarkIntervalMs: 5_000 });
process.stdout.write(`${JSON.stringify({ url: api.url })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() !== 'requests') return;
  const counts: Record<string, number> = {};
  for (const r of api.requests) {
    const key = `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  process.stdout.write(`${JSON.stringify(counts)}\n`);
});
lines.on('close', () => {
  void api.close().then(() => process.exit(0));
});
