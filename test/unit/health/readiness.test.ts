import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeFor, ReadinessTimeout, waitUntilReady } from '../../../controller/health/readiness.js';

const servers: { close(): void }[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** An HTTP server that answers 200 only on `okPath`, and records what was asked. */
async function httpServer(okPath: string): Promise<{ port: number; paths: string[] }> {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(req.url === okPath ? 200 : 404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { port: (server.address() as AddressInfo).port, paths };
}

const readiness = { interval: 10, timeout: 1000 };

describe('readiness probes', () => {
  it('asks vLLM its /health over HTTP by default', async () => {
    const s = await httpServer('/health');
    expect(await probeFor({ type: 'vllm', readiness })({ host: '127.0.0.1', port: s.port })).toBe(true);
    expect(s.paths).toEqual(['/health']);
  });

  it('treats a wrong answer as not ready, and Triton has its own path', async () => {
    const s = await httpServer('/health');
    expect(await probeFor({ type: 'triton', readiness })({ host: '127.0.0.1', port: s.port })).toBe(false);
    expect(s.paths).toEqual(['/v2/health/ready']);
  });

  it('connects over TCP for PostgreSQL, and fails on a closed port', async () => {
    const tcp = createTcpServer((c) => c.end());
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    servers.push(tcp);
    const port = (tcp.address() as AddressInfo).port;
    expect(await probeFor({ type: 'postgresql', readiness })({ host: '127.0.0.1', port })).toBe(true);
    tcp.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(await probeFor({ type: 'postgresql', readiness })({ host: '127.0.0.1', port })).toBe(false);
  });

  it('gives up after the timeout with a hint', async () => {
    await expect(waitUntilReady(async () => false, { intervalMs: 10, timeoutMs: 50, what: 'service x' })).rejects.toThrow(ReadinessTimeout);
    await expect(waitUntilReady(async () => false, { intervalMs: 10, timeoutMs: 50, what: 'service x' })).rejects.toThrow(/raise spec.readiness.timeout/);
  });
});
