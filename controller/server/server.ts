// Puts a built status API on a port (0 picks a free one) and reports the URL
// it really listens on, so the controller can publish it for aifbctl.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

export interface ServerOptions {
  host?: string;
  port?: number;
  /** The app serves HTTPS (it was built with a key and certificate). */
  tls?: boolean;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(app: FastifyInstance, opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 8484;
  try {
    await app.listen({ host, port });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') {
      throw new Error(`port ${port} on ${host} is already in use; stop the other process or choose another port (0 picks a free one)`);
    }
    throw e;
  }
  const addr = app.server.address() as AddressInfo;
  // A wildcard address is reachable as loopback; an IPv6 address needs brackets in a URL.
  const address = addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address === '::' ? '::1' : addr.address;
  const shownHost = addr.family === 'IPv6' || address.includes(':') ? `[${address}]` : address;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${shownHost}:${addr.port}`,
    close: () => app.close(),
  };
}
