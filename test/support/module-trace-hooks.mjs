// Module-resolution hooks for `module-trace.ts`, registered with `module.register` in the traced process
// and run by Node on its hooks thread: every URL a `resolve` resolves to is posted to the port passed in
// `data`. Plain JavaScript, so it loads without tsx (the packaging test traces an installed tarball).

/** @type {import('node:worker_threads').MessagePort | undefined} */
let port;

/** @param {{ port: import('node:worker_threads').MessagePort }} data */
export function initialize(data) {
  port = data.port;
  // Messages on one port arrive in order: answering `flush` after the URLs posted so far lets the main
  // thread know it has received all of them.
  port.on('message', (message) => {
    if (message === 'flush') port?.postMessage('flushed');
  });
  port.unref();
}

/**
 * @param {string} specifier
 * @param {unknown} context
 * @param {(specifier: string, context: unknown) => Promise<{ url: string }>} nextResolve
 */
export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  port?.postMessage(result.url);
  return result;
}
