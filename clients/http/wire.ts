// HTTP/1.1 over plain sockets, for the hot path of the http and llm
// workloads: each request's bytes are built once and written whole, answers
// are parsed as they stream (a sink takes a body piece by piece), and one
// sweep timer per pool stands for every request's timeout. undici's dispatch
// builds, checks and serialises the request again on every send and arms
// timers per request; with it the workload sent x0.79 of autocannon's
// requests/s (issue 13). What this client does not do, it
// refuses: no redirects, no retries, no request streaming, no HTTP/2.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** A request as it goes on the wire, built once by wireRequest(). */
export interface WireRequest {
  bytes: Buffer;
  /** HEAD: the answer has no body whatever its headers say. */
  head: boolean;
  /** Sent with `connection: close`: its connection ends with its answer. */
  close: boolean;
}

/** What came back: the final status, time to headers, body bytes and, when asked, the start of the body. */
export interface WireAnswer {
  status: number;
  /** ms from the send to the end of the answer's headers. */
  ttfb: number;
  bytes: number;
  excerpt: string;
}

export type WireFailure = 'connect' | 'closed' | 'headersTimeout' | 'bodyTimeout' | 'protocol';

export class WireError extends Error {
  constructor(
    message: string,
    readonly kind: WireFailure,
    /** The socket's own error, when one broke the connection. */
    cause?: Error,
  ) {
    super(message, cause ? { cause } : undefined);
  }
}

/**
 * Takes an answer's body as it streams, for a client that reads more than its
 * size (the llm client's server-sent events): head() once the headers are in,
 * then data() for each piece of the body as it arrives. Neither may throw.
 * The chunk's memory is read into again once data() returns: what a sink
 * keeps, it copies (decoding it to a string does).
 */
export interface WireSink {
  head(status: number, contentType: string): void;
  data(chunk: Buffer, from: number, to: number): void;
}

export interface WireOptions {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  /** Connections at most. */
  connections: number;
  /** Requests sent on one connection before their answers; 1 = none. */
  pipelining: number;
  /** No headers within this many ms of the send, or no body bytes for this long, fails the request. */
  timeoutMs: number;
  /** An idle connection older than this is not reused (the server may be closing it); a `keep-alive: timeout=N` answer shortens it. 4 s by default. */
  idleMs?: number;
  /** https: certificates to trust besides Node's own (PEM). */
  ca?: string;
}

/** An `ok` table in which every status counts as an answer: for a caller that judges the status itself. */
export const ANY_STATUS = new Uint8Array(1000).fill(1);

const CRLF2 = Buffer.from('\r\n\r\n');

/**
 * What every plain-HTTP connection reads into (net's `onread`): answers are
 * parsed as each read returns, so one buffer serves them all. Node otherwise
 * allocates a buffer per read and pushes it through the socket's stream.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
/** What undici assumes of a server that names no keep-alive timeout. */
const IDLE_MS = 4000;

/**
 * The bytes of one request: request line, headers (host and content-length
 * added unless given, `connection: close` when `close` and no connection
 * header is given), body.
 */
export function wireRequest(o: { method: string; path: string; host: string; headers: Record<string, string>; body?: Buffer; close?: boolean }): WireRequest {
  const names = new Set(Object.keys(o.headers).map((h) => h.toLowerCase()));
  // A connection header given wins over `close`.
  const connection = Object.entries(o.headers).find(([name]) => name.toLowerCase() === 'connection')?.[1];
  const close = connection !== undefined ? connection.trim().toLowerCase() === 'close' : o.close === true;
  let head = `${o.method} ${o.path} HTTP/1.1\r\n`;
  if (!names.has('host')) head += `host: ${o.host}\r\n`;
  for (const [name, value] of Object.entries(o.headers)) head += `${name}: ${value}\r\n`;
  if (close && connection === undefined) head += 'connection: close\r\n';
  if (o.body && !names.has('content-length')) head += `content-length: ${o.body.length}\r\n`;
  else if (!o.body && o.method !== 'GET' && o.method !== 'HEAD' && !names.has('content-length')) head += 'content-length: 0\r\n';
  head += '\r\n';
  const start = Buffer.from(head, 'latin1');
  return { bytes: o.body ? Buffer.concat([start, o.body]) : start, head: o.method === 'HEAD', close };
}

/** A problem a header or path would cause on the wire, in words; undefined when fine. */
export function wireProblem(o: { path: string; headers: Record<string, string> }): { field: 'path' | 'headers'; message: string } | undefined {
  if (/[\s\x00-\x1f\x7f]/.test(o.path)) return { field: 'path', message: 'must not contain spaces or control characters; percent-encode them (%20)' };
  for (const [name, value] of Object.entries(o.headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return { field: 'headers', message: `"${name}" is not a valid header name` };
    if (/[\r\n\x00]/.test(value)) return { field: 'headers', message: `the value of "${name}" contains a line break; give it on one line` };
  }
  return undefined;
}

class Exchange {
  status = 0;
  ttfb = 0;
  bytes = 0;
  excerpt = '';
  readonly started = performance.now();
  lastData = 0;

  constructor(
    readonly req: WireRequest,
    /** Collect the body's start (up to 1 KiB) for statuses with ok[status] !== 1. */
    readonly ok: Uint8Array,
    readonly resolve: (a: WireAnswer) => void,
    readonly reject: (e: Error) => void,
    readonly sink: WireSink | undefined,
  ) {}
}

const enum Read {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
}

/** What an answer's head says about the answer. */
interface Head {
  status: number;
  /** content-length; -1 when not given. */
  length: number;
  chunked: boolean;
  contentType: string;
  /** The connection ends after this answer. */
  close: boolean;
  /** From keep-alive: timeout=N, a second less, as undici does: the server's own timer may fire first. */
  idleMs?: number;
}

/** The head's fields, or why it is not an HTTP/1.1 answer. */
function readHeadFields(head: string): Head | string {
  const status = head.startsWith('HTTP/1.') ? Number(head.slice(9, 12)) : NaN;
  if (!(status >= 100 && status <= 999)) return `the server did not answer in HTTP/1.1: "${head.slice(0, 40)}"`;
  const fields: Head = { status, length: -1, chunked: false, contentType: '', close: head.charCodeAt(7) === 48 }; // HTTP/1.0: closes unless it says keep-alive
  let i = head.indexOf('\r\n');
  while (i >= 0) {
    const next = head.indexOf('\r\n', i + 2);
    const line = next < 0 ? head.slice(i + 2) : head.slice(i + 2, next);
    i = next;
    const colon = line.indexOf(':');
    // Only the names read below: connection, content-length, content-type, keep-alive, transfer-encoding.
    if (colon !== 10 && colon !== 12 && colon !== 14 && colon !== 17) continue;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim().toLowerCase();
    if (name === 'content-length') fields.length = Number(value);
    else if (name === 'content-type') fields.contentType = value;
    else if (name === 'transfer-encoding') fields.chunked = value.endsWith('chunked');
    else if (name === 'connection') fields.close = value === 'close' ? true : value === 'keep-alive' ? false : fields.close;
    else if (name === 'keep-alive') {
      const t = /timeout=(\d+)/.exec(value);
      if (t) fields.idleMs = Math.max(0, Number(t[1]) * 1000 - 1000);
    }
  }
  return fields;
}

class Connection {
  readonly socket: Socket;
  readonly inflight: Exchange[] = [];
  dead = false;
  /** Listed in the pool's free stack. */
  listed = false;
  lastUsed = performance.now();
  idleMs: number;
  private read = Read.Head;
  private headBuf: Buffer | undefined;
  private remaining = 0;
  private lineBuf = '';
  /** The answer said `connection: close`: no more on this socket once it ends. */
  private closing = false;
  /**
   * The last head read here and what it said. A server sends the same head
   * answer after answer (its Date changes once a second), and comparing its
   * bytes costs less than reading its lines again.
   */
  private lastHead?: { bytes: Buffer; head: Head };

  constructor(
    private readonly pool: WirePool,
    o: WireOptions,
  ) {
    this.idleMs = o.idleMs ?? IDLE_MS;
    this.socket =
      o.scheme === 'https'
        ? tlsConnect({ host: o.host, port: o.port, servername: isIP(o.host) ? undefined : o.host, ALPNProtocols: ['http/1.1'], ...(o.ca ? { ca: o.ca } : {}) })
        : netConnect({ host: o.host, port: o.port, onread: { buffer: READ_BUFFER, callback: (n, buf) => this.onRead(n, buf) } });
    this.socket.setNoDelay(true);
    if (o.scheme === 'https') this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    let error: Error | undefined;
    this.socket.on('error', (e) => (error = e));
    this.socket.on('close', () => this.onClose(error));
  }

  /** net's onread: n bytes in READ_BUFFER. True: keep reading. */
  private onRead(n: number, buf: Uint8Array): boolean {
    this.onData((buf as Buffer).subarray(0, n));
    return true;
  }

  send(x: Exchange): void {
    this.inflight.push(x);
    this.lastUsed = performance.now();
    this.socket.write(x.req.bytes);
  }

  fail(e: WireError): void {
    this.dead = true;
    this.socket.destroy();
    this.failAll(e);
  }

  private failAll(e: Error): void {
    const all = this.inflight.splice(0);
    for (const x of all) x.reject(e);
  }

  private onClose(error: Error | undefined): void {
    if (this.read === Read.UntilClose && this.inflight.length > 0) this.complete();
    this.dead = true;
    if (this.inflight.length > 0) {
      // Node's words for a refused connect ("connect ECONNREFUSED 127.0.0.1:8000") say it all.
      if ((error as NodeJS.ErrnoException | undefined)?.syscall === 'connect') this.failAll(new WireError(error!.message, 'connect', error));
      else this.failAll(new WireError(`${error ? `the connection broke (${error.message})` : 'the server closed the connection'} before the answer ended`, 'closed', error));
    }
    this.pool.lost(this);
  }

  private onData(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.dead) {
      const x = this.inflight[0];
      if (!x) return this.fail(new WireError('the server sent bytes no request asked for', 'protocol'));
      switch (this.read) {
        case Read.Head:
          at = this.readHead(chunk, at, x);
          break;
        case Read.Length:
          at = this.counted(x, chunk, at);
          if (this.remaining === 0) this.complete();
          break;
        case Read.UntilClose:
          this.body(x, chunk, at, chunk.length);
          at = chunk.length;
          break;
        case Read.ChunkData:
          at = this.counted(x, chunk, at);
          if (this.remaining === 0) this.read = Read.ChunkEnd;
          break;
        default:
          at = this.readLine(chunk, at, x);
      }
    }
  }

  /** Accumulates the head until its blank line, then reads what the body will be. */
  private readHead(chunk: Buffer, at: number, x: Exchange): number {
    let buf = chunk;
    let from = at;
    if (this.headBuf) {
      buf = Buffer.concat([this.headBuf, chunk.subarray(at)]);
      from = 0;
    }
    const end = buf.indexOf(CRLF2, from);
    if (end < 0) {
      if (buf.length - from > 64 * 1024) {
        this.fail(new WireError('the answer\'s headers passed 64 KiB without ending', 'protocol'));
        return chunk.length;
      }
      // A copy: the chunk's memory is read into again (READ_BUFFER).
      this.headBuf = Buffer.from(buf.subarray(from));
      return chunk.length;
    }
    const used = end + 4 - from;
    const consumed = this.headBuf ? used - this.headBuf.length : used;
    this.headBuf = undefined;
    const last = this.lastHead;
    let head: Head | string;
    if (last && last.bytes.length === end - from && buf.compare(last.bytes, 0, last.bytes.length, from, end) === 0) head = last.head;
    else {
      head = readHeadFields(buf.toString('latin1', from, end));
      // A copy: the chunk's memory is the socket's to reuse.
      if (typeof head !== 'string') this.lastHead = { bytes: Buffer.from(buf.subarray(from, end)), head };
    }
    this.applyHead(head, x);
    return at + consumed;
  }

  private applyHead(head: Head | string, x: Exchange): void {
    if (typeof head === 'string') return this.fail(new WireError(head, 'protocol'));
    // 1xx answers come before the real one: keep reading heads.
    if (head.status < 200 && head.status !== 101) return;
    x.status = head.status;
    x.lastData = performance.now();
    x.ttfb = x.lastData - x.started;
    if (head.idleMs !== undefined) this.idleMs = Math.min(this.idleMs, head.idleMs);
    this.closing = head.close;
    x.sink?.head(head.status, head.contentType);
    if (x.req.head || head.status === 204 || head.status === 304) return this.complete();
    if (head.chunked) this.read = Read.ChunkSize;
    else if (head.length >= 0) {
      if (!Number.isSafeInteger(head.length)) return this.fail(new WireError(`the answer's content-length is not a number`, 'protocol'));
      this.remaining = head.length;
      this.read = Read.Length;
      if (head.length === 0) this.complete();
    } else {
      this.read = Read.UntilClose;
      this.closing = true;
    }
  }

  /** Chunk sizes, the CRLF after a chunk, and trailers: line by line. */
  private readLine(chunk: Buffer, at: number, x: Exchange): number {
    const nl = chunk.indexOf(10, at);
    if (nl < 0) {
      this.lineBuf += chunk.toString('latin1', at);
      if (this.lineBuf.length > 8192) this.fail(new WireError('a chunk header of the answer passed 8 KiB', 'protocol'));
      return chunk.length;
    }
    const line = (this.lineBuf + chunk.toString('latin1', at, nl)).replace(/\r$/, '');
    this.lineBuf = '';
    if (this.read === Read.ChunkEnd) this.read = Read.ChunkSize;
    else if (this.read === Read.ChunkSize) {
      const size = parseInt(line, 16);
      if (!(size >= 0)) {
        this.fail(new WireError(`the answer's chunk size "${line.slice(0, 20)}" is not hexadecimal`, 'protocol'));
        return chunk.length;
      }
      x.lastData = performance.now();
      if (size === 0) this.read = Read.Trailers;
      else {
        this.remaining = size;
        this.read = Read.ChunkData;
      }
    } else if (line === '') this.complete(); // the blank line after the trailers
    return nl + 1;
  }

  /** Up to `remaining` body bytes of a sized body or chunk; returns where the chunk's next bytes start. */
  private counted(x: Exchange, chunk: Buffer, at: number): number {
    const n = Math.min(this.remaining, chunk.length - at);
    this.body(x, chunk, at, at + n);
    this.remaining -= n;
    return at + n;
  }

  private body(x: Exchange, chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    x.bytes += to - from;
    x.lastData = performance.now();
    if (x.sink) x.sink.data(chunk, from, to);
    else if (x.ok[x.status] !== 1 && x.excerpt.length < 1024) x.excerpt += chunk.toString('utf8', from, to);
  }

  private complete(): void {
    const x = this.inflight.shift()!;
    this.read = Read.Head;
    this.lastUsed = performance.now();
    x.resolve(x);
    if (this.closing || x.req.close) {
      // The server ends this connection: what was pipelined behind the answer goes elsewhere, or fails with the close.
      this.dead = true;
      this.socket.end();
      return;
    }
    this.pool.freed(this);
  }
}

/** Connections to one origin; requests go to a free one, or wait in order for one. */
export class WirePool {
  private readonly conns = new Set<Connection>();
  /** Connections with room for another request, most recently used last. */
  private readonly free: Connection[] = [];
  private readonly waiting: Exchange[] = [];
  private readonly sweep: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly o: WireOptions) {
    // One timer for every request's timeout, firing a few times per timeout: a late answer fails at most a quarter late.
    this.sweep = setInterval(() => this.expire(), Math.min(1000, Math.max(5, o.timeoutMs / 4)));
    this.sweep.unref();
  }

  /** Sends a request; its answer's body goes to `sink` when given, else is counted (and its start kept when ok[status] !== 1). */
  send(req: WireRequest, ok: Uint8Array, sink?: WireSink): Promise<WireAnswer> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new WireError('the client was closed', 'closed'));
      const x = new Exchange(req, ok, resolve, reject, sink);
      const c = this.take();
      if (c) c.send(x);
      else this.waiting.push(x);
    });
  }

  /** Ends every connection; requests under way fail. */
  destroy(): void {
    this.closed = true;
    clearInterval(this.sweep);
    for (const x of this.waiting.splice(0)) x.reject(new WireError('the client was closed', 'closed'));
    for (const c of [...this.conns]) c.fail(new WireError('the client was closed', 'closed'));
  }

  /** A connection has room again: the next waiting request goes on it. */
  freed(c: Connection): void {
    const next = this.waiting.shift();
    if (next) return c.send(next);
    if (!c.listed && c.inflight.length < this.o.pipelining) {
      c.listed = true;
      this.free.push(c);
    }
  }

  lost(c: Connection): void {
    this.conns.delete(c);
    // Requests waiting for a connection get a new one.
    while (this.waiting.length > 0 && this.conns.size < this.o.connections && !this.closed) {
      const fresh = this.open();
      fresh.send(this.waiting.shift()!);
      if (fresh.inflight.length < this.o.pipelining) this.freed(fresh);
    }
  }

  private take(): Connection | undefined {
    const now = performance.now();
    while (this.free.length > 0) {
      const c = this.free[this.free.length - 1];
      if (c.dead) {
        this.free.pop();
        c.listed = false;
        continue;
      }
      if (c.inflight.length === 0 && now - c.lastUsed > c.idleMs) {
        // Idle long enough that the server may be closing it as we write: a new one instead.
        this.free.pop();
        c.listed = false;
        c.fail(new WireError('idle', 'closed'));
        continue;
      }
      if (c.inflight.length + 1 >= this.o.pipelining) {
        this.free.pop();
        c.listed = false;
      }
      return c;
    }
    if (this.conns.size >= this.o.connections) return undefined;
    const c = this.open();
    if (this.o.pipelining > 1) {
      c.listed = true;
      this.free.push(c);
    }
    return c;
  }

  private open(): Connection {
    const c = new Connection(this, this.o);
    this.conns.add(c);
    return c;
  }

  private expire(): void {
    const now = performance.now();
    const limit = this.o.timeoutMs;
    for (const c of this.conns) {
      const x = c.inflight[0];
      if (!x) continue;
      if (x.status === 0 && now - x.started > limit) c.fail(new WireError('no response', 'headersTimeout'));
      else if (x.status !== 0 && now - x.lastData > limit) c.fail(new WireError('the response stalled', 'bodyTimeout'));
    }
  }
}
