// For the test STAND-INS (fake vLLM, Ollama, Triton): the HTTP server around a
// handler, listening on a port (0 for any free one), a handler that throws
// answered with the server's own 500 (or the connection cut once an answer has
// begun), and a close that does not wait for streams in progress.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function serveStandIn(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  internalError: (res: ServerResponse, message: string) => void,
  port: number,
  host: string,
): Promise<StandInServer> {
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) internalError(res, e instanceof Error ? e.message : String(e));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${urlHost}:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Streams in progress would otherwise keep close() waiting.
        server.closeAllConnections();
      }),
  };
}
