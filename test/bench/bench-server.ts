// The benches' loopback server: one process, one core, keep-alive. POST
// /v1/chat/completions answers as vLLM does (streamed when the body asks),
// anything else a 17-byte JSON body. Two fronts give the same answers:
//   node-http: Node's http module, the "minimal Node server" of issue 13. It
//     costs more per request than the tools do, so a closed loop against it
//     measures the server: every tool reaches its rate and their ratio is 1.
//   raw: a net server that finds each request's end (the blank line, then
//     content-length bytes) and writes the canned answer, nothing else. It
//     answers faster than the tools ask, so the tool that saturates first
//     shows as the lower rate: what row 1 sets out to compare.
import { spawn, type ChildProcess } from 'node:child_process';
import { onCore } from './cores.js';

export type ServerKind = 'node-http' | 'raw';

/** Tokens in an llm answer. */
export const TOKENS = 16;

const USAGE = { prompt_tokens: 8, completion_tokens: TOKENS, total_tokens: 8 + TOKENS };

/**
 * The llm-stream scenario's answer, with this id and created time: a role-only
 * chunk, TOKENS token chunks, the usage and [DONE], as vLLM streams them. The
 * stream-reader bench reads the same text.
 */
export function streamedAnswer(id: string, created: number): string {
  const event = (o: object) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: 'bench', ...o })}\n\n`;
  const events = [event({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] })];
  for (let i = 0; i < TOKENS; i++) events.push(event({ choices: [{ index: 0, delta: { content: ' token' } }] }));
  events.push(event({ choices: [], usage: USAGE }), 'data: [DONE]\n\n');
  return events.join('');
}

/** The server's streamed answer before each answer's own id and time are written over these (same widths). */
const TEMPLATE_ID = 'chatcmpl-0000000000000000';
const TEMPLATE_CREATED = 1000000000;

/** Both fronts: the answers, and answerOf(whether it is POST /v1/chat/completions, its body) -> [content type, bytes]. */
const ANSWERS = `
const small = Buffer.from('{"ok":true,"n":1}');
const usage = ${JSON.stringify(USAGE)};
const whole = Buffer.from(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', model: 'bench', choices: [{ index: 0, message: { role: 'assistant', content: ' token'.repeat(${TOKENS}) }, finish_reason: 'length' }], usage }));
const ID = ${JSON.stringify(TEMPLATE_ID)};
const stream = Buffer.from(${JSON.stringify(streamedAnswer(TEMPLATE_ID, TEMPLATE_CREATED))});
// As vLLM does, each answer has an id of its own and the second it was created: where their digits sit.
const at = (text, skip) => { const all = []; for (let i = stream.indexOf(text); i !== -1; i = stream.indexOf(text, i + 1)) all.push(i + skip); return all; };
const idAt = at(ID, 9);
const createdAt = at('"created":${TEMPLATE_CREATED}', 10);
let answers = 0;
const streamed = () => {
  const b = Buffer.from(stream);
  const id = (++answers).toString(16).padStart(16, '0');
  const created = String(Math.floor(Date.now() / 1000));
  for (const i of idAt) b.latin1Write(id, i);
  for (const i of createdAt) b.latin1Write(created, i);
  return b;
};
const answerOf = (chat, body) => !chat ? ['application/json', small] : body.includes('"stream":true') ? ['text/event-stream', streamed()] : ['application/json', whole];
`;

const NODE_HTTP = `
const http = require('node:http');
${ANSWERS}
const s = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    const [type, answer] = answerOf(req.method === 'POST' && req.url === '/v1/chat/completions', body);
    res.writeHead(200, { 'content-type': type, 'content-length': answer.length });
    res.end(answer);
  });
});
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log('port ' + s.address().port));
`;

// Requests may arrive split or several in one read (pipelined): the bytes past the last whole request wait for the next read.
const RAW = `
const net = require('node:net');
${ANSWERS}
const headOf = (type, length) => Buffer.from('HTTP/1.1 200 OK\\r\\ncontent-type: ' + type + '\\r\\ncontent-length: ' + length + '\\r\\n\\r\\n', 'latin1');
const frame = (type, body) => Buffer.concat([headOf(type, body.length), body]);
// The fixed answers framed once; a streamed one has an id of its own each time.
const ready = new Map([[small, frame('application/json', small)], [whole, frame('application/json', whole)]]);
const framed = ([type, body]) => ready.get(body) ?? frame(type, body);
const s = net.createServer((sock) => {
  sock.setNoDelay(true);
  let rest = null;
  sock.on('data', (d) => {
    const buf = rest ? Buffer.concat([rest, d]) : d;
    const out = [];
    let off = 0;
    for (;;) {
      const end = buf.indexOf('\\r\\n\\r\\n', off);
      if (end === -1) break;
      const head = buf.latin1Slice(off, end);
      const length = /\\r\\ncontent-length: *(\\d+)/i.exec(head);
      const next = end + 4 + (length ? Number(length[1]) : 0);
      if (next > buf.length) break;
      out.push(framed(answerOf(head.startsWith('POST /v1/chat/completions '), buf.latin1Slice(end + 4, next))));
      off = next;
    }
    rest = off < buf.length ? Buffer.from(buf.subarray(off)) : null;
    if (out.length === 1) sock.write(out[0]);
    else if (out.length > 1) sock.write(Buffer.concat(out));
  });
  sock.on('error', () => sock.destroy());
});
s.listen(0, '127.0.0.1', () => console.log('port ' + s.address().port));
`;

/** The bench's server in a process of its own (on `core`, when given); kill `child` when done. */
export async function startServer(core?: number, kind: ServerKind = 'node-http'): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(...onCore(core, process.execPath, ['-e', kind === 'raw' ? RAW : NODE_HTTP]), { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the bench server exited (code ${code}) before listening`)));
  });
  return { port, child };
}
