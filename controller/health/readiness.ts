// Readiness probes run from where the controller is: a TCP connect, an HTTP
// GET, or the service's own protocol (PostgreSQL's startup, an S3 answer),
// polled until the service answers or the readiness timeout passes.
import { connect, type Socket } from 'node:net';
import { request } from 'undici';
import { hostHeaderOf } from '../../clients/http-common.js';
import type { ServiceSpec } from '../api/schemas.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import { pollUntil } from '../runtime/poll.js';

export interface Endpoint {
  host: string;
  port: number;
  scheme?: 'http' | 'https';
}

/** The path each service type answers when it is ready to serve. */
export const DEFAULT_HTTP_PATHS: Partial<Record<ServiceSpec['type'], string>> = {
  vllm: '/health',
  ollama: '/api/tags',
  triton: '/v2/health/ready',
  chromadb: '/api/v2/heartbeat',
  weaviate: '/v1/.well-known/ready',
  http: '/',
};

/**
 * A probe on a connection of its own: `talk` gets the socket once asked to
 * connect, and `done` to give the verdict. Silence past timeoutMs, an error or
 * a close before the verdict is not ready; the connection ends with the verdict.
 */
function socketProbe(ep: Endpoint, timeoutMs: number, talk: (socket: Socket, done: (ok: boolean) => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: ep.host, port: ep.port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
    talk(socket, done);
  });
}

export function tcpProbe(ep: Endpoint, timeoutMs = 2000): Promise<boolean> {
  return socketProbe(ep, timeoutMs, (socket, done) => socket.once('connect', () => done(true)));
}

/**
 * Whether GET `path` answers 2xx. Over plain HTTP the request goes on a
 * connection of its own, closed once the status line is in: a Ready service
 * is probed every watchInterval (30 s), longer than servers keep an idle
 * connection, so there is none to reuse, and this costs the controller less
 * than a pooled client's request (issue 13: 1,000 Ready services, idle CPU).
 */
export function httpProbe(ep: Endpoint, path: string, timeoutMs = 2000): Promise<boolean> {
  if (ep.scheme === 'https') return httpsProbe(ep, path, timeoutMs);
  return socketProbe(ep, timeoutMs, (socket, done) => {
    let head = '';
    socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nhost: ${hostHeaderOf(ep)}\r\nconnection: close\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (head.indexOf('\r\n') < 0 && head.length < 1024) return; // the status line is on its way
      const status = /^HTTP\/1\.[01] (\d{3}) /.exec(head)?.[1];
      done(status !== undefined && status[0] === '2');
    });
  });
}

async function httpsProbe(ep: Endpoint, path: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await request(`https://${ep.host}:${ep.port}${path}`, {
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
    return res.statusCode >= 200 && res.statusCode < 300;
  } catch {
    return false;
  }
}

/** SQLSTATE cannot_connect_now: the server is starting up, shutting down or recovering. */
const PG_CANNOT_CONNECT_NOW = '57P03';

/**
 * Whether a PostgreSQL accepts connections, as pg_isready decides it: send a
 * startup message and read the first answer. An authentication request, or any
 * error but "the database system is starting up" (57P03), is a server that takes
 * sessions; an open port that says nothing, or closes, is not. No password is
 * sent: the probe hangs up at the authentication request, which the server
 * does not log.
 */
export function postgresProbe(ep: Endpoint, user = 'postgres', timeoutMs = 2000): Promise<boolean> {
  return socketProbe(ep, timeoutMs, (socket, done) => {
    let answer = Buffer.alloc(0);
    socket.once('connect', () => {
      const params = Buffer.from(`user\0${user}\0application_name\0aifb-readiness\0\0`);
      const head = Buffer.alloc(8);
      head.writeInt32BE(8 + params.length, 0);
      head.writeInt32BE(196608, 4); // protocol 3.0
      socket.write(Buffer.concat([head, params]));
    });
    socket.on('data', (chunk) => {
      answer = Buffer.concat([answer, chunk]);
      const kind = String.fromCharCode(answer[0]);
      if (kind === 'R') return done(true);
      if (kind !== 'E') return done(false);
      if (answer.length < 5 || answer.length < 1 + answer.readInt32BE(1)) return; // the rest of the error is on its way
      // Error fields: a type byte and a NUL-terminated string each; 'C' is the SQLSTATE.
      const fields = answer.subarray(5, 1 + answer.readInt32BE(1)).toString('utf8').split('\0');
      const code = fields.find((f) => f.startsWith('C'))?.slice(1);
      done(code !== PG_CANNOT_CONNECT_NOW);
    });
  });
}

/**
 * Whether an S3 server (MinIO, or the local executor's s3rver) serves: a GET of
 * `/` without credentials is answered with an S3 XML document, a bucket list or
 * AccessDenied alike; 5xx (MinIO's "not initialized") or anything not XML is not ready.
 */
export async function s3Probe(ep: Endpoint, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await request(`${ep.scheme ?? 'http'}://${ep.host}:${ep.port}/`, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    await res.body.dump();
    return res.statusCode < 500 && /xml/.test(String(res.headers['content-type'] ?? ''));
  } catch {
    return false;
  }
}

export function probeFor(spec: Pick<ServiceSpec, 'type' | 'readiness'> & { credentials?: ServiceSpec['credentials'] }): (ep: Endpoint) => Promise<boolean> {
  const { readiness } = spec;
  // The type's own protocol unless the spec asks for a plain check (readiness.type, or a path to GET).
  const byProtocol = readiness.type === undefined && readiness.path === undefined;
  if (byProtocol && spec.type === 'postgresql') return (ep) => postgresProbe(ep, spec.credentials?.user);
  if (byProtocol && (spec.type === 's3' || spec.type === 'minio')) return (ep) => s3Probe(ep);
  // A path given is a path to GET, whatever the type.
  const type = readiness.type ?? (readiness.path !== undefined || DEFAULT_HTTP_PATHS[spec.type] ? 'http' : 'tcp');
  if (type === 'none') return async () => true;
  if (type === 'http') {
    const path = readiness.path ?? DEFAULT_HTTP_PATHS[spec.type] ?? '/';
    return (ep) => httpProbe(ep, path);
  }
  return (ep) => tcpProbe(ep);
}

export class ReadinessTimeout extends Error {
  override name = 'ReadinessTimeout';
}

/** Resolves once probe answers true; rejects with ReadinessTimeout after timeoutMs. */
export async function waitUntilReady(
  probe: () => Promise<boolean>,
  opts: { intervalMs: number; timeoutMs: number; signal?: AbortSignal; what: string; clock?: Clock },
): Promise<void> {
  await pollUntil(async () => ((await probe()) ? true : undefined), {
    clock: opts.clock ?? systemClock,
    intervalMs: opts.intervalMs,
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    what: opts.what,
    onTimeout: () =>
      new ReadinessTimeout(`${opts.what} did not become ready within ${Math.round(opts.timeoutMs / 1000)}s; check its logs, or raise spec.readiness.timeout`),
  });
}
