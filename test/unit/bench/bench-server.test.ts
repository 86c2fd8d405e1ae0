// The benches' loopback server (test/bench/bench-server.ts): its raw front finds
// each request's end however the bytes arrive (several requests in one write,
// one request cut inside its head and inside its body), and gives the answers
// Node's http front gives.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerKind } from '../../bench/bench-server.js';

interface Answer {
  type: string;
  body: string;
}

const chat = (stream: boolean) => {
  const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'hi' }], stream });
  return `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
};
const GET = 'GET / HTTP/1.1\r\nhost: x\r\n\r\n';

/** Writes each piece (a pause between, so each is a read of its own), then reads `count` answers. */
async function exchange(port: number, pieces: string[], count: number): Promise<Answer[]> {
  const sock: Socket = connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let got = Buffer.alloc(0);
  const answers: Answer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      for (;;) {
        const end = got.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = got.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1]);
        if (got.length < end + 4 + length) return;
        answers.push({ type: /\r\ncontent-type: *([^\r]+)/i.exec(head)![1], body: got.subarray(end + 4, end + 4 + length).toString() });
        got = got.subarray(end + 4 + length);
        if (answers.length === count) resolve();
      }
    });
  });
  for (const piece of pieces) {
    sock.write(piece);
    await new Promise((r) => setTimeout(r, 30));
  }
  await done;
  sock.destroy();
  return answers;
}

/** A streamed answer's own id and time, written over, so two answers compare. */
const sameIds = (body: string) => body.replace(/chatcmpl-[0-9a-f]{16}/g, 'chatcmpl-ID').replace(/"created":\d+/g, '"created":0');

describe('the bench server', () => {
  const servers = {} as Record<ServerKind, Awaited<ReturnType<typeof startServer>>>;
  beforeAll(async () => {
    servers.raw = await startServer(undefined, 'raw');
    servers['node-http'] = await startServer(undefined, 'node-http');
  });
  afterAll(() => {
    for (const s of Object.values(servers)) s.child.kill();
  });

  it('answers requests written together, in order, and a request cut inside its head and its body once whole', async () => {
    const together = await exchange(servers.raw.port, [GET + chat(false) + GET], 3);
    expect(together.map((a) => a.type)).toEqual(['application/json', 'application/json', 'application/json']);
    expect(together[0].body).toBe('{"ok":true,"n":1}');
    expect(JSON.parse(together[1].body)).toMatchObject({ object: 'chat.completion', usage: { completion_tokens: 16 } });
    expect(together[2].body).toBe('{"ok":true,"n":1}');

    const request = chat(true);
    const [inHead, inBody] = [request.indexOf('content-type'), request.indexOf('"stream"')];
    const cut = await exchange(servers.raw.port, [request.slice(0, inHead), request.slice(inHead, inBody), request.slice(inBody) + GET], 2);
    expect(cut[0].type).toBe('text/event-stream');
    expect(cut[0].body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(cut[1].body).toBe('{"ok":true,"n":1}');
  });

  it('gives what the node-http server gives, each streamed answer with an id of its own', async () => {
    const asks = [GET, chat(false), chat(true), chat(true)];
    const raw = await exchange(servers.raw.port, asks, asks.length);
    const node = await exchange(servers['node-http'].port, asks, asks.length);
    expect(raw.map((a) => ({ type: a.type, body: sameIds(a.body) }))).toEqual(node.map((a) => ({ type: a.type, body: sameIds(a.body) })));
    expect(raw[2].body).not.toBe(raw[3].body);
  });
});
