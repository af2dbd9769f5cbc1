import net from 'node:net';
import pg from 'pg';

export interface TerminateAtStartupProxy {
  /** `url` with host and port replaced by the proxy's. */
  readonly url: string;
  /** Connections whose backend the proxy terminated. */
  readonly terminated: () => number;
  /** Whether new connections are terminated (the default) or passed through untouched. */
  terminating: boolean;
  /** Cuts every connection the proxy carries, as a network fault would. */
  dropConnections(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a real Postgres that reproduces one race exactly: the backend is terminated
 * (`pg_terminate_backend`, as a failover or an administrator does) right after it finished the startup
 * handshake, and the client reads its ReadyForQuery and the FATAL 57P01 in one chunk. node-postgres then
 * completes `connect` and reports the FATAL while parsing the same chunk, before any `await` continuation
 * of the code that asked for the connection has run.
 *
 * The proxy forwards everything as it comes until the first ReadyForQuery ('Z'), holds that message,
 * terminates the backend named by BackendKeyData ('K'), and delivers the held bytes together with the
 * rest of what the server sends before it closes the socket, in one write.
 */
export async function startTerminateAtStartupProxy(url: string): Promise<TerminateAtStartupProxy> {
  const target = new URL(url);
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  admin.on('error', () => {});
  let terminated = 0;
  const sockets = new Set<net.Socket>();

  const dropConnections = () => {
    for (const socket of sockets) socket.destroy();
  };
  const proxy = { terminating: true };
  const server = net.createServer((client) => {
    const terminating = proxy.terminating;
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    if (!terminating) {
      upstream.pipe(client);
      return;
    }

    let pending = Buffer.alloc(0);
    let held: Buffer[] | undefined;
    let pid: number | undefined;
    upstream.on('data', (chunk: Buffer) => {
      if (held) {
        held.push(chunk);
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      let forwardUpTo = 0;
      while (pending.length - forwardUpTo >= 5) {
        const type = String.fromCharCode(pending[forwardUpTo]!);
        const length = pending.readInt32BE(forwardUpTo + 1);
        if (pending.length - forwardUpTo < 1 + length) break;
        if (type === 'K') pid = pending.readInt32BE(forwardUpTo + 5);
        if (type === 'Z') {
          client.write(pending.subarray(0, forwardUpTo));
          held = [pending.subarray(forwardUpTo)];
          void admin.query('SELECT pg_terminate_backend($1)', [pid]).then(
            () => terminated++,
            () => client.destroy(),
          );
          return;
        }
        forwardUpTo += 1 + length;
      }
      client.write(pending.subarray(0, forwardUpTo));
      pending = pending.subarray(forwardUpTo);
    });
    upstream.on('end', () => {
      if (held) client.end(Buffer.concat(held));
      else client.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(address.port);

  return Object.assign(proxy, {
    url: proxied.toString(),
    terminated: () => terminated,
    dropConnections,
    async close() {
      dropConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await admin.end();
    },
  });
}
