// A real s3rver for the tests, in a child process on port 0 with a temporary
// folder (see s3rver-process.cjs): what it was asked, in order, and answers
// held back on request.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import type { Connection } from '../../../../api/connection.js';

/** s3rver's one built-in account: it knows this access key id and no other. */
export const S3RVER_KEY = 'S3RVER';

export interface Delays {
  /** Before s3rver sees the request (and starts reading its body). */
  beforeHandling?: number;
  /** Before the answer's headers (and anything after them) go out. */
  beforeHeaders?: number;
  /** Between the headers (sent at once) and the body. */
  beforeBody?: number;
  /** After the first body chunk, before the rest of the body. */
  afterFirstChunk?: number;
}

export interface RunningS3rver {
  port: number;
  /** `METHOD /bucket/key?query` for each request since the last call, in arrival order. */
  requests(): Promise<string[]>;
  /** Holds answers to requests whose `METHOD URL` matches. */
  delay(match: RegExp, delays: Delays): void;
  service(over?: Partial<Connection>): Connection;
  /** An SDK client to look at the server from outside the workload. */
  admin(): S3Client;
  close(): Promise<void>;
}

type FromChild = { port?: number; log?: string; pong?: number };

export async function startS3rver(): Promise<RunningS3rver> {
  const directory = mkdtempSync(join(tmpdir(), 'aifb-s3rver-'));
  const child: ChildProcess = fork(fileURLToPath(new URL('./s3rver-process.cjs', import.meta.url)), [directory], {
    execArgv: ['--openssl-legacy-provider', '--no-deprecation'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let log: string[] = [];
  const pongs = new Map<number, () => void>();
  child.on('message', (m: FromChild) => {
    if (m.log !== undefined) log.push(m.log);
    if (m.pong !== undefined) pongs.get(m.pong)?.();
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (m: FromChild) => m.port !== undefined && resolve(m.port));
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} before listening`)));
  });
  let pings = 0;
  const admins: S3Client[] = [];
  return {
    port,
    requests: async () => {
      const id = pings++;
      await new Promise<void>((resolve) => {
        pongs.set(id, resolve);
        child.send({ ping: id });
      });
      pongs.delete(id);
      const seen = log;
      log = [];
      return seen;
    },
    delay: (match, d) => child.send({ delay: { source: match.source, flags: match.flags, d } }),
    service: (over = {}) => ({
      scheme: 'http',
      host: '127.0.0.1',
      port,
      region: 'us-east-1',
      credentials: { user: S3RVER_KEY, password: { env: 'AIFB_TEST_S3_SECRET' } },
      ...over,
    }),
    admin: () => {
      const c = new S3Client({
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      admins.push(c);
      return c;
    },
    close: async () => {
      for (const c of admins) c.destroy();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      await exited;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
