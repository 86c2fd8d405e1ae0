// The http workload's own HTTP/1.1 client against real servers on loopback:
// Node's http server for what servers commonly send, and a raw TCP server for
// the framings and faults Node's server does not produce on request.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WireError, WirePool, wireProblem, wireRequest, type WireOptions } from '../../../../clients/http/wire.js';

const servers: Array<Server | TcpServer> = [];
const pools: WirePool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) p.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

const OK = new Uint8Array(600).fill(1, 200, 300);
const listen = async (s: Server | TcpServer) => {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as AddressInfo).port;
};
const pool = (port: number, over: Partial<WireOptions> = {}) => {
  const p = new WirePool({ scheme: 'http', host: '127.0.0.1', port, connections: 1, pipelining: 1, timeoutMs: 5000, ...over });
  pools.push(p);
  return p;
};
const get = (path = '/', method = 'GET', body?: Buffer) => wireRequest({ method, path, host: '127.0.0.1', headers: {}, body });

/** A TCP server that answers each request (one per read) with the next of `answers`, raw. */
async function raw(answers: Array<string | ((s: Socket) => void)>): Promise<{ port: number; sockets: number }> {
  const seen = { port: 0, sockets: 0 };
  const s = createTcpServer((socket) => {
    seen.sockets++;
    socket.on('data', () => {
      const a = answers.shift();
      if (typeof a === 'function') a(socket);
      else if (a !== undefined) socket.write(a);
    });
  });
  seen.port = await listen(s);
  return seen;
}

describe('wire client', () => {
  it('reads content-length and chunked bodies, and counts only body bytes', async () => {
    const port = await listen(
      createServer((req, res) => {
        if (req.url === '/chunked') {
          res.write('abc');
          setTimeout(() => res.end('defgh'), 20);
        } else res.writeHead(200, { 'content-length': 4 }).end('wxyz');
      }),
    );
    const p = pool(port);
    expect(await p.send(get('/'), OK)).toMatchObject({ status: 200, bytes: 4, excerpt: '' });
    expect(await p.send(get('/chunked'), OK)).toMatchObject({ status: 200, bytes: 8 });
    // The same connection throughout: keep-alive.
    expect(await p.send(get('/'), OK)).toMatchObject({ bytes: 4 });
  });

  it('hands a sink the status, the content type and each piece of the body as it arrives, chunk framing removed', async () => {
    const s = await raw([
      (socket) => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\ntransfer-encoding: chunked\r\n\r\n5\r\ndata:\r\n');
        setTimeout(() => socket.write('3\r\n 1\n\r\n0\r\n\r\n'), 30);
      },
    ]);
    const seen: string[] = [];
    const sink = { head: (status: number, type: string) => seen.push(`${status} ${type}`), data: (b: Buffer, from: number, to: number) => seen.push(b.toString('latin1', from, to)) };
    const a = await pool(s.port).send(get(), OK, sink);
    expect(seen).toEqual(['200 text/event-stream; charset=utf-8', 'data:', ' 1\n']);
    // The sink takes the body: nothing is kept as an excerpt, the bytes are still counted.
    expect(a).toMatchObject({ status: 200, bytes: 8, excerpt: '' });
  });

  it('pipelines up to `pipelining` requests on one connection, answered in order', async () => {
    const order: string[] = [];
    let sockets = 0;
    const server = createServer((req, res) => {
      order.push(req.url!);
      res.end(req.url);
    });
    server.on('connection', () => sockets++);
    const port = await listen(server);
    const p = pool(port, { pipelining: 4 });
    const answers = await Promise.all(['/a', '/bb', '/ccc', '/dddd', '/eeeee'].map((u) => p.send(get(u), OK)));
    expect(answers.map((a) => a.bytes)).toEqual([2, 3, 4, 5, 6]);
    expect(order).toEqual(['/a', '/bb', '/ccc', '/dddd', '/eeeee']);
    expect(sockets).toBe(1);
  });

  it('skips 1xx answers, reads an HTTP/1.0 body to the close, and reconnects after `connection: close`', async () => {
    const s = await raw([
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi',
      (socket) => socket.end('HTTP/1.0 200 OK\r\n\r\nuntil the end'),
      'HTTP/1.1 204 No Content\r\n\r\n',
    ]);
    const p = pool(s.port);
    expect(await p.send(get(), OK)).toMatchObject({ status: 200, bytes: 2 });
    expect(await p.send(get(), OK)).toMatchObject({ status: 200, bytes: 'until the end'.length });
    expect(await p.send(get(), OK)).toMatchObject({ status: 204, bytes: 0 });
    expect(s.sockets).toBe(3);
  });

  it('reads each head for what it says, the same head again or one a byte apart', async () => {
    const head = (status: string, length: number, more = '') => `HTTP/1.1 ${status}\r\ncontent-length: ${length}\r\n${more}\r\n`;
    const s = await raw([
      head('200 OK', 2) + 'ok',
      head('200 OK', 2) + 'ok',
      // As long as the head before, one byte apart: a 5-byte body, not 2 and a stray 3.
      head('200 OK', 5) + 'hello',
      head('404 Nope', 5) + 'nope!',
      head('200 OK', 5, 'transfer-encoding: chunked\r\n') + '3\r\nabc\r\n0\r\n\r\n',
      head('200 OK', 5) + 'again',
      head('200 OK', 5, 'connection: close\r\n') + 'bye!!',
      head('200 OK', 5) + 'fresh',
    ]);
    const p = pool(s.port);
    const read = async () => {
      const a = await p.send(get(), OK);
      return `${a.status} ${a.bytes} ${a.excerpt}`;
    };
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await read());
    expect(answers).toEqual(['200 2 ', '200 2 ', '200 5 ', '404 5 nope!', '200 3 ', '200 5 ', '200 5 ', '200 5 ']);
    // The close was read from its head: the last answer came on a new connection.
    expect(s.sockets).toBe(2);
  });

  it('keeps a head split across two reads whole while another connection reads in between (the read buffer is shared)', async () => {
    const sockets = new Map<string, Socket>();
    const asked = new Map<string, () => void>();
    const port = await listen(
      createTcpServer((socket) =>
        socket.on('data', (d) => {
          const path = /^GET (\S+)/.exec(d.toString())![1];
          sockets.set(path, socket);
          asked.get(path)?.();
        }),
      ),
    );
    const arrived = (path: string) => new Promise<Socket>((r) => asked.set(path, () => r(sockets.get(path)!)));
    const p = pool(port, { connections: 2 });
    const aAsked = arrived('/a');
    const a = p.send(get('/a'), OK);
    (await aAsked).write('HTTP/1.1 200 OK\r\ncontent-le');
    await new Promise((r) => setTimeout(r, 50));
    const bAsked = arrived('/b');
    const b = p.send(get('/b'), OK);
    (await bAsked).write('HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\nnot found');
    expect(await b).toMatchObject({ status: 404, bytes: 9 });
    sockets.get('/a')!.write('ngth: 4\r\n\r\nwxyz');
    expect(await a).toMatchObject({ status: 200, bytes: 4 });
  });

  it('keeps the start of a body whose status is not ok, for the error reason', async () => {
    const s = await raw(['HTTP/1.1 503 Busy\r\ntransfer-encoding: chunked\r\n\r\n5\r\nbusy \r\n4\r\nnow!\r\n0\r\n\r\n']);
    expect(await pool(s.port).send(get(), OK)).toMatchObject({ status: 503, bytes: 9, excerpt: 'busy now!' });
  });

  it('fails a request with no answer, or whose answer stalls, after timeoutMs; the pool goes on with a new connection', async () => {
    const s = await raw([
      () => undefined,
      (socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf'),
      'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n',
    ]);
    const p = pool(s.port, { timeoutMs: 150 });
    const started = performance.now();
    const e = await p.send(get(), OK).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WireError);
    expect((e as WireError).kind).toBe('headersTimeout');
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    await expect(p.send(get(), OK)).rejects.toMatchObject({ kind: 'bodyTimeout' });
    expect(await p.send(get(), OK)).toMatchObject({ status: 200 });
    expect(s.sockets).toBe(3);
  });

  it('fails what is under way when the server breaks the connection, naming it; a refused connect in Node\'s words', async () => {
    const s = await raw([(socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhal')]);
    await expect(pool(s.port).send(get(), OK)).rejects.toThrow('the server closed the connection before the answer ended');
    const closed = await listen(createTcpServer());
    await new Promise<void>((r) => servers.pop()!.close(() => r()));
    await expect(pool(closed).send(get(), OK)).rejects.toThrow(`connect ECONNREFUSED 127.0.0.1:${closed}`);
  });

  it('does not reuse a connection idle past the server\'s keep-alive timeout', async () => {
    let sockets = 0;
    const server = createServer((_req, res) => res.end('x'));
    server.keepAliveTimeout = 60_000;
    server.on('connection', () => sockets++);
    const p = pool(await listen(server), { idleMs: 100 });
    await p.send(get(), OK);
    await p.send(get(), OK);
    expect(sockets).toBe(1);
    await new Promise((r) => setTimeout(r, 150));
    await p.send(get(), OK);
    expect(sockets).toBe(2);
  });

  it('sends the request line, host, headers and body as built once', async () => {
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.url} ${req.headers.host} ${req.headers['x-a']} ${req.headers['content-length']} ${b}`);
        res.end();
      });
    });
    const port = await listen(server);
    const req = wireRequest({ method: 'POST', path: '/p?q=1', host: `127.0.0.1:${port}`, headers: { 'x-a': 'b' }, body: Buffer.from('{"k":1}') });
    const p = pool(port);
    await p.send(req, OK);
    await p.send(req, OK);
    expect(bodies).toEqual([`POST /p?q=1 127.0.0.1:${port} b 7 {"k":1}`, `POST /p?q=1 127.0.0.1:${port} b 7 {"k":1}`]);
  });

  it('names what would break the request on the wire', () => {
    expect(wireProblem({ path: '/a b', headers: {} })).toMatchObject({ field: 'path' });
    expect(wireProblem({ path: '/', headers: { 'x-a': 'one\r\nx-b: two' } })).toEqual({ field: 'headers', message: 'the value of "x-a" contains a line break; give it on one line' });
    expect(wireProblem({ path: '/', headers: { 'bad name': 'x' } })).toMatchObject({ field: 'headers' });
    expect(wireProblem({ path: '/v1/models?x=1', headers: { authorization: 'Bearer t' } })).toBeUndefined();
  });

  it('speaks TLS to an https service, and refuses a certificate it does not trust, in Node\'s words', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aifb-wire-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const port = await listen(createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (_req, res) => res.end('secret')));
      expect(await pool(port, { scheme: 'https', ca: cert }).send(get(), OK)).toMatchObject({ status: 200, bytes: 6 });
      await expect(pool(port, { scheme: 'https' }).send(get(), OK)).rejects.toThrow(/self-signed certificate/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
