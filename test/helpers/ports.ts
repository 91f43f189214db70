import net from 'node:net';

// Kept apart from process-stack.ts (which re-exports these) so that helpers such as slapd.ts can use them
// without loading the Temporal and API modules process-stack imports.

/** The TCP port a listening server is bound to. */
export function portOf(server: net.Server): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/** A free TCP port on 127.0.0.1 (bound and released; the OS does not hand it out again at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = portOf(srv);
      srv.close(() => resolve(port));
    });
  });
}
