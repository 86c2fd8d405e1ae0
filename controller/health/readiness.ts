// Readiness probes run from where the controller is: a TCP connect or an HTTP
// GET, polled until the service answers or the readiness timeout passes.
import { connect } from 'node:net';
import { request } from 'undici';
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

export function tcpProbe(ep: Endpoint, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: ep.host, port: ep.port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function httpProbe(ep: Endpoint, path: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await request(`${ep.scheme ?? 'http'}://${ep.host}:${ep.port}${path}`, {
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
    return res.statusCode >= 200 && res.statusCode < 300;
  } catch {
    return false;
  }
}

export function probeFor(spec: Pick<ServiceSpec, 'type' | 'readiness'>): (ep: Endpoint) => Promise<boolean> {
  const { readiness } = spec;
  const type = readiness.type ?? (DEFAULT_HTTP_PATHS[spec.type] ? 'http' : 'tcp');
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
