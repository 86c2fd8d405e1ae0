// A real ChromaDB for the tests, started the way the local executor starts a
// chromadb Service (nativeLaunch: the chromadb package's `chroma run`) on a free
// port with a temporary folder, and awaited with the Service type's own
// readiness probe (GET /api/v2/heartbeat).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChromaClient } from 'chromadb';
import type { Connection } from '../../../../api/connection.js';
import { ServiceSpec } from '../../../../api/schemas.js';
import { freeLocalPort, NATIVE_HOST, nativeLaunch } from '../../../../containers/native/native-services.js';
import { probeFor, waitUntilReady } from '../../../../controller/health/readiness.js';

export interface ChromaServer {
  host: string;
  port: number;
  service(over?: Partial<Connection>): Connection;
  /** A client to look at the server from outside the workload. */
  admin(): ChromaClient;
  stop(): Promise<void>;
}

export async function startChroma(): Promise<ChromaServer> {
  const dir = await mkdtemp(join(tmpdir(), 'aifb-chroma-'));
  const port = await freeLocalPort();
  const launch = nativeLaunch('chromadb', { port, dataDir: join(dir, 'data'), stateDir: dir, args: [] });
  const [cmd, ...args] = launch.command;
  const child: ChildProcess = spawn(cmd, args, { env: { ...process.env, ...launch.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const probe = probeFor(ServiceSpec.parse({ type: 'chromadb' }));
  try {
    await waitUntilReady(() => probe({ host: NATIVE_HOST, port }), { intervalMs: 100, timeoutMs: 30_000, what: 'chroma run' });
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}: ${stderr}`);
  }
  return {
    host: NATIVE_HOST,
    port,
    service: (over = {}) => ({ scheme: 'http', host: NATIVE_HOST, port, ...over }),
    admin: () => new ChromaClient({ host: NATIVE_HOST, port }),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
