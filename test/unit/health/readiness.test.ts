import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpProbe, probeFor, ReadinessTimeout, waitUntilReady } from '../../../controller/health/readiness.js';

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

  it('reads an HTTP answer from its status line, however it arrives; silence, a close or something not HTTP is not ready', async () => {
    const raw = async (answer: (socket: Socket, request: string) => void) => {
      const server = createTcpServer((socket) => {
        let request = '';
        socket.on('data', (d) => {
          request += d;
          if (request.includes('\r\n\r\n')) answer(socket, request);
        });
        socket.on('error', () => undefined);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.push(server);
      return { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
    };
    const split = await raw((socket, request) => {
      expect(request).toMatch(/^GET \/ready HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\n/);
      socket.write('HTTP/1.1 20');
      setTimeout(() => socket.write('4 No Content\r\n\r\n'), 20);
    });
    expect(await httpProbe(split, '/ready')).toBe(true);
    expect(await httpProbe(await raw((socket) => socket.end('HTTP/1.0 503 Service Unavailable\r\n\r\n')), '/')).toBe(false);
    expect(await httpProbe(await raw((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n')), '/')).toBe(false);
    expect(await httpProbe(await raw((socket) => socket.end()), '/')).toBe(false);
    const silent = await raw(() => undefined);
    const began = performance.now();
    expect(await httpProbe(silent, '/', 100)).toBe(false);
    expect(performance.now() - began).toBeGreaterThanOrEqual(90);
  });

  it('asks PostgreSQL for a session as pg_isready does: an open port that says nothing, or a server starting up, is not ready', async () => {
    // What a server answers a startup message with: nothing (a port that just closes), an
    // authentication request, or an error with its SQLSTATE. A real server is in test/e2e/native-services.test.ts.
    const pgError = (code: string) => {
      const body = Buffer.from(`SFATAL\0C${code}\0Mthe database system is starting up\0\0`);
      const head = Buffer.alloc(5);
      head.write('E', 0);
      head.writeInt32BE(4 + body.length, 1);
      return Buffer.concat([head, body]);
    };
    const answers: Record<string, Buffer | undefined> = {
      silent: undefined,
      auth: Buffer.from([0x52, 0, 0, 0, 12, 0, 0, 0, 5, 1, 2, 3, 4]), // 'R': AuthenticationMD5Password
      starting: pgError('57P03'),
      refusing: pgError('28000'), // no pg_hba.conf entry: up, and answering
    };
    const startups: Buffer[] = [];
    const ports: Record<string, number> = {};
    const tcps: Record<string, ReturnType<typeof createTcpServer>> = {};
    for (const [name, answer] of Object.entries(answers)) {
      const tcp = createTcpServer((c) =>
        c.once('data', (d) => {
          startups.push(d);
          // The error arrives in two pieces, as it may over a real network.
          if (answer) c.write(answer.subarray(0, 3), () => setTimeout(() => c.end(answer.subarray(3)), 20));
          else c.end();
        }),
      );
      await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
      servers.push(tcp);
      tcps[name] = tcp;
      ports[name] = (tcp.address() as AddressInfo).port;
    }
    const probe = probeFor({ type: 'postgresql', readiness, credentials: { user: 'bench' } });
    expect(await probe({ host: '127.0.0.1', port: ports.silent })).toBe(false);
    expect(await probe({ host: '127.0.0.1', port: ports.auth })).toBe(true);
    expect(await probe({ host: '127.0.0.1', port: ports.starting })).toBe(false);
    expect(await probe({ host: '127.0.0.1', port: ports.refusing })).toBe(true);
    // A protocol 3.0 startup message naming the user, and no password.
    expect(startups[0].readInt32BE(4)).toBe(196608);
    expect(startups[0].toString('utf8')).toContain('user\0bench\0');
    // readiness.type: tcp keeps the plain connect; a closed port fails either way.
    expect(await probeFor({ type: 'postgresql', readiness: { ...readiness, type: 'tcp' } })({ host: '127.0.0.1', port: ports.silent })).toBe(true);
    await new Promise((r) => tcps.auth.close(r));
    expect(await probe({ host: '127.0.0.1', port: ports.auth })).toBe(false);
  });

  it('counts any S3 answer to an anonymous GET / as ready (a bucket list or AccessDenied), not 5xx or a page that is not S3', async () => {
    const answer: Record<string, [number, string]> = { '403': [403, 'application/xml'], '503': [503, 'application/xml'], html: [200, 'text/html'] };
    const ports: Record<string, number> = {};
    for (const [name, [status, type]] of Object.entries(answer)) {
      const server = createServer((_req, res) => res.writeHead(status, { 'content-type': type }).end('<Error><Code>AccessDenied</Code></Error>'));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.push(server);
      ports[name] = (server.address() as AddressInfo).port;
    }
    for (const type of ['s3', 'minio'] as const) {
      const probe = probeFor({ type, readiness });
      expect(await probe({ host: '127.0.0.1', port: ports['403'] })).toBe(true);
      expect(await probe({ host: '127.0.0.1', port: ports['503'] })).toBe(false);
      expect(await probe({ host: '127.0.0.1', port: ports.html })).toBe(false);
    }
    // A path of the user's own is a plain HTTP check: 2xx there, and an S3 refusal is not that.
    expect(await probeFor({ type: 's3', readiness: { ...readiness, path: '/minio/health/ready' } })({ host: '127.0.0.1', port: ports['403'] })).toBe(false);
    expect(await probeFor({ type: 's3', readiness: { ...readiness, path: '/minio/health/ready' } })({ host: '127.0.0.1', port: ports.html })).toBe(true);
  });

  it('gives up after the timeout with a hint', async () => {
    await expect(waitUntilReady(async () => false, { intervalMs: 10, timeoutMs: 50, what: 'service x' })).rejects.toThrow(ReadinessTimeout);
    await expect(waitUntilReady(async () => false, { intervalMs: 10, timeoutMs: 50, what: 'service x' })).rejects.toThrow(/raise spec.readiness.timeout/);
  });
});
