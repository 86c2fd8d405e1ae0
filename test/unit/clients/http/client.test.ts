// The http workload against a real Node HTTP server on loopback (port 0).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Load } from '../../../../api/schemas.js';
import { ConfigError } from '../../../../clients/client.js';
import { systemClock } from '../../../../clients/engine/clock.js';
import { runLoad } from '../../../../clients/engine/engine.js';
import { HttpClient } from '../../../../clients/http/client.js';
import { http } from '../../../../clients/http/index.js';
import { HttpWorkload } from '../../../../clients/http/schema.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;
let client: HttpClient | undefined;
const seen: Seen[] = [];

afterEach(async () => {
  await client?.teardown();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
  client = undefined;
  seen.length = 0;
});

type Handler = (req: Seen, res: ServerResponse) => void;

const defaultHandler: Handler = (req, res) => {
  if (req.url === '/missing') return void res.writeHead(404).end('not here');
  if (req.url === '/boom') return void res.writeHead(500).end('internal trouble: disk on fire');
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, echo: req.body }));
};

async function serve(handler: Handler = defaultHandler): Promise<number> {
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(parts).toString() };
      if (req.method !== 'HEAD') seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return (server!.address() as AddressInfo).port;
}

const workload = (over: Record<string, unknown> = {}) => HttpWorkload.parse({ type: 'http', ...over });

async function against(over: Record<string, unknown> = {}, handler?: Handler): Promise<HttpClient> {
  const port = await serve(handler);
  client = new HttpClient(workload(over), { service: { scheme: 'http', host: '127.0.0.1', port }, connections: 2 });
  await client.setup();
  return client;
}

describe('HttpClient', () => {
  it('sends GET / by default, as operation "get", with time to first byte and response bytes', async () => {
    const c = await against();
    expect(c.operations).toEqual(['get']);
    const r = await c.execute({ name: 'get', seq: 0 });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /']);
    expect(r.metrics?.bytes).toBe(JSON.stringify({ ok: true, echo: '' }).length);
    expect(r.metrics?.ttfb).toBeGreaterThan(0);
  });

  it('sends a weighted mix of named requests with their headers and bodies, JSON as application/json', async () => {
    const c = await against({
      requests: [
        { name: 'search', path: '/search?q=gpu', headers: { authorization: 'Bearer t0k' }, weight: 3 },
        { name: 'embed', method: 'POST', path: '/v1/embeddings', body: { input: 'hello', model: 'm' } },
        { name: 'raw', method: 'PUT', path: '/blob', body: 'plain text', headers: { 'content-type': 'text/plain' } },
      ],
    });
    expect(c.operations).toEqual(['search', 'embed', 'raw']);
    expect(c.mix.operations).toEqual({ search: 3, embed: 1, raw: 1 });
    await c.execute({ name: 'search', seq: 0 });
    await c.execute({ name: 'embed', seq: 1 });
    await c.execute({ name: 'raw', seq: 2 });
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/search?q=gpu', headers: { authorization: 'Bearer t0k' } });
    expect(seen[1]).toMatchObject({ method: 'POST', url: '/v1/embeddings', headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(seen[1].body)).toEqual({ input: 'hello', model: 'm' });
    expect(seen[2]).toMatchObject({ method: 'PUT', body: 'plain text', headers: { 'content-type': 'text/plain' } });
  });

  it('counts an expected status as success and fails any other with the status and what the server said', async () => {
    const c = await against({
      requests: [
        { name: 'missing', path: '/missing', expectStatus: 404 },
        { name: 'boom', path: '/boom' },
        { name: 'either', path: '/missing', expectStatus: [200, 404] },
      ],
    });
    expect((await c.execute({ name: 'missing', seq: 0 })).metrics?.bytes).toBe('not here'.length);
    await expect(c.execute({ name: 'boom', seq: 1 })).rejects.toThrow('HTTP 500 from GET /boom (expected 2xx): internal trouble: disk on fire');
    // The connection stays usable after an error response.
    await expect(c.execute({ name: 'either', seq: 2 })).resolves.toMatchObject({ metrics: { bytes: 8 } });
  });

  it('measures time to first byte apart from the whole response', async () => {
    const c = await against({}, (req, res) => {
      // Setup's HEAD probe ends with its headers; held open, it would hold the connection the GET goes on.
      if (req.method === 'HEAD') return void res.end();
      res.writeHead(200);
      res.flushHeaders();
      res.write('first');
      setTimeout(() => res.end('-and-the-rest'), 120);
    });
    const started = performance.now();
    const r = await c.execute({ name: 'get', seq: 0 });
    const whole = performance.now() - started;
    expect(r.metrics?.bytes).toBe('first-and-the-rest'.length);
    expect(whole).toBeGreaterThanOrEqual(115);
    expect(r.metrics?.ttfb as number).toBeLessThan(whole - 80);
  });

  it('fails a request that gets no answer within workload.timeout, naming the setting', async () => {
    const c = await against({ timeout: '200ms', path: '/slow' }, (req, res) => {
      if (req.url !== '/slow') res.end();
    });
    await expect(c.execute({ name: 'get', seq: 0 })).rejects.toThrow('no response within 200 ms (workload.timeout) for GET /slow');
  });

  it('fails setup naming the endpoint when nothing listens there', async () => {
    const port = await serve();
    await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    client = new HttpClient(workload(), { service: { scheme: 'http', host: '127.0.0.1', port }, connections: 1 });
    await expect(client.setup()).rejects.toThrow(new RegExp(`cannot reach the http service at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });

  it('lists every request problem at once, with its path', () => {
    const w = workload({ requests: [{ path: '/a' }, { path: '/b' }, { name: 'up', body: { x: 1 } }] });
    const e = (() => {
      try {
        new HttpClient(w, { service: { scheme: 'http', host: '127.0.0.1', port: 1 }, connections: 1 });
      } catch (x) {
        return x as ConfigError;
      }
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect(e!.problems).toEqual([
      { path: 'workload.requests[1].name', message: 'another request is already named "get"; give each request its own name' },
      { path: 'workload.requests[2].body', message: 'a GET request sends no body; set method to POST or PUT, or remove body' },
    ]);
  });

  it('needs a service: a ConfigError that points at spec.serviceRef', () => {
    expect(() => new HttpClient(workload(), { connections: 1 })).toThrow(/an http workload needs a service: set spec.serviceRef/);
  });
});

describe('http workload settings', () => {
  it('refuses one request set both inline and in requests, naming the field', () => {
    const r = HttpWorkload.safeParse({ type: 'http', path: '/x', requests: [{ path: '/y' }] });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['path', 'set path inside each entry of requests, or drop requests and set it here']]);
  });

  it('defaults the timeout to 30 s and takes durations as written', () => {
    expect(workload().timeout).toBe(30_000);
    expect(workload({ timeout: '1.5s' }).timeout).toBe(1500);
  });

  it('keeps a connection for the next request, or with keepAlive 0 opens one per request and says connection: close', async () => {
    const sockets = new Set<unknown>();
    // The GETs' connections (setup's HEAD has its own when nothing is kept).
    const count = (req: Seen, res: ServerResponse) => {
      if (req.method === 'GET') sockets.add(res.socket);
      defaultHandler(req, res);
    };
    const kept = await against({}, count);
    for (const seq of [0, 1, 2]) await kept.execute({ name: 'get', seq });
    expect(sockets.size).toBe(1);
    expect(seen.map((s) => s.headers.connection)).toEqual([undefined, undefined, undefined]);
    await kept.teardown();
    await new Promise<void>((r) => server!.close(() => r()));
    sockets.clear();
    seen.length = 0;
    const fresh = await against({ keepAlive: 0 }, count);
    for (const seq of [0, 1, 2]) await fresh.execute({ name: 'get', seq });
    expect(sockets.size).toBe(3);
    expect(seen.map((s) => s.headers.connection)).toEqual(['close', 'close', 'close']);
  });

  it('refuses pipelining without keep-alive, naming both settings', () => {
    const r = HttpWorkload.safeParse({ type: 'http', keepAlive: 0, pipelining: 4 });
    expect(r.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['pipelining', 'pipelining sends several requests on one kept connection; set keepAlive above 0, or pipelining to 1'],
    ]);
  });
});

describe('http workload through the engine', () => {
  it('a closed-loop run records latency, ttfb and bytes per named request, with no errors', async () => {
    const c = await against({ requests: [{ name: 'a', path: '/a', weight: 1 }, { name: 'b', path: '/b', weight: 1 }] });
    const r = await runLoad({ client: c, metrics: http.metrics, load: Load.parse({ mode: 'closed', workers: 4, maxRequests: 400 }), ranks: 1, rank: 0, clock: systemClock });
    expect(r.totals).toMatchObject({ requests: 400, errors: 0 });
    const bytesPer = JSON.stringify({ ok: true, echo: '' }).length;
    for (const op of ['a', 'b']) {
      const t = r.operations[op];
      expect(t.requests).toBeGreaterThan(100);
      expect(t.metrics.bytes).toEqual({ count: t.requests, sum: t.requests * bytesPer });
      expect(t.metrics.ttfb.count).toBe(t.requests);
    }
  });
});
