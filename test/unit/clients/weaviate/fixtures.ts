// What the weaviate tests share: the stand-in as a Service connection, a
// workload with small defaults, and a client built through the definition's
// create() with the ClientContext the runner gives it.
import { createServer } from 'node:net';
import type { Connection } from '../../../../api/connection.js';
import { Load } from '../../../../api/schemas.js';
import type { ClientContext } from '../../../../clients/workload.js';
import { resolveSecret } from '../../../../clients/secrets.js';
import type { WeaviateBenchClient } from '../../../../clients/weaviate/client.js';
import { weaviate } from '../../../../clients/weaviate/index.js';
import { WeaviateWorkload } from '../../../../clients/weaviate/schema.js';

export const KEY_ENV = 'AIFB_TEST_WEAVIATE_KEY';

export function serviceAt(url: string, token = false): Connection {
  const u = new URL(url);
  return { scheme: 'http', host: u.hostname, port: Number(u.port), ...(token ? { credentials: { token: { env: KEY_ENV } } } : {}) };
}

export const workload = (over: Record<string, unknown> = {}) =>
  WeaviateWorkload.parse({ type: 'weaviate', dimension: 16, data: { count: 300 }, queries: { count: 40 }, searchK: 10, operationMix: { search: 1 }, ...over });

export function context(service: Connection | undefined, load: Record<string, unknown> = { mode: 'closed', workers: 4, maxRequests: 100, seed: 5 }, rank = 0, ranks = 1): ClientContext {
  return {
    runId: 'run-1',
    rank,
    ranks,
    load: Load.parse(load),
    inflight: 4,
    connections: 4,
    service,
    credential: (name) => {
      const ref = service?.credentials?.[name];
      return ref ? resolveSecret(ref, `service.credentials.${name}`) : undefined;
    },
  };
}

/** A client through the definition, as the runner makes it. */
export const create = async (w: WeaviateWorkload, ctx: ClientContext) => (await weaviate.create(w, ctx)) as WeaviateBenchClient;

/** A port nothing listens on: taken from the OS, then released. */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}
