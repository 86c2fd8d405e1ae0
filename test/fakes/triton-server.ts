// A FAKE Triton for tests: a STAND-IN, because Triton needs a GPU and a model
// repository. It follows the KServe v2 HTTP API for what aifb uses: health and
// model readiness, the repository index, /infer (an identity model: outputs
// echo the inputs), and the generate extension, /generate and /generate_stream
// (server-sent events carrying `text_output`, an `error` event mid-stream under
// HTTP 200, the stream ended by closing). Answers play a scripted timeline
// (llm-timeline.ts), faults included (error statuses and events in Triton's
// shape, cut-off events, drops, stalls).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { play, simpleTimeline, type Timeline } from './llm-timeline.js';
import { serveStandIn } from './stand-in-http.js';

export interface FakeTritonOptions {
  port?: number;
  host?: string;
  /** Models that report ready. */
  models?: string[];
  timeline?: Timeline;
  /** How long /infer takes. */
  inferMs?: number;
}

export interface FakeTriton {
  url: string;
  port: number;
  close(): Promise<void>;
}

const WORDS = [' Triton', ' serves', ' models', ' on', ' GPUs', '.'];

function sendJson(res: ServerResponse, status: number, doc: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
}

export async function startFakeTriton(options: FakeTritonOptions = {}): Promise<FakeTriton> {
  const { port = 0, host = '127.0.0.1', inferMs = 2, timeline } = options;
  const models = options.models ?? ['llama'];

  async function generate(model: string, body: Record<string, unknown>, res: ServerResponse, stream: boolean, start: number): Promise<void> {
    if (typeof body.text_input !== 'string') return sendJson(res, 400, { error: "missing input 'text_input' for model" });
    const params = (body.parameters ?? {}) as { max_tokens?: number };
    const t = timeline ?? simpleTimeline(params.max_tokens ?? 8, 5, 1);
    const failed = `Failed to process the request(s) for model '${model}', message: out of memory`;
    // Triton's statuses: 400 for a request it cannot take, 503 (UNAVAILABLE) for a full queue, 500 for the rest.
    const status = (code: number) =>
      sendJson(res, code, {
        error: code < 500 ? `unexpected shape for input 'text_input' for model '${model}'. Expected [1], got [2]` : code === 503 ? 'Exceeds maximum queue size' : failed,
      });
    const event = (doc: unknown) => `data: ${JSON.stringify(doc)}\n\n`;
    let text = '';
    let cut = false;
    const done = await play(t, start, res, {
      begin: () => {
        if (stream) res.writeHead(200, { 'content-type': 'text/event-stream' });
      },
      chunk: (c, i) => {
        const piece = WORDS[i % WORDS.length];
        text += piece;
        if (stream) res.write(event({ model_name: model, model_version: '1', text_output: piece }));
      },
      // /generate has sent nothing yet, so its failure is a status; /generate_stream's is an event under 200.
      error: () => (stream ? res.write(event({ error: failed })) : status(500)),
      malformed: () => {
        if (!stream) return void (cut = true);
        const whole = event({ model_name: model, model_version: '1', text_output: WORDS[0] });
        res.write(`${whole.slice(0, whole.length >> 1)}\n\n`);
      },
      status,
    });
    if (!done) return;
    if (stream) return void res.end();
    const answer = JSON.stringify({ model_name: model, model_version: '1', text_output: text });
    if (!cut) return void res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
    res.writeHead(200, { 'content-type': 'application/json' }).end(answer.slice(0, answer.length >> 1));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const start = performance.now();
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/v2/health/ready' || path === '/v2/health/live')) return void res.writeHead(200).end();
    // The model repository extension: what the repository holds, and in which state.
    if (req.method === 'POST' && path === '/v2/repository/index') return sendJson(res, 200, models.map((name) => ({ name, version: '1', state: 'READY' })));
    const m = /^\/v2\/models\/([^/]+)(?:\/(ready|infer|generate|generate_stream))?$/.exec(path);
    if (!m) return sendJson(res, 404, { error: 'Not Found' });
    const model = decodeURIComponent(m[1]);
    if (!models.includes(model)) return sendJson(res, 400, { error: `Request for unknown model: '${model}' is not found` });
    if (m[2] === 'ready' || m[2] === undefined) return void res.writeHead(200).end();
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
    } catch {
      return sendJson(res, 400, { error: 'failed to parse the request JSON buffer' });
    }
    if (m[2] === 'infer') {
      const inputs = body.inputs as Array<{ name: string; shape: number[]; datatype: string; data: unknown[] }> | undefined;
      if (!Array.isArray(inputs) || inputs.length === 0) return sendJson(res, 400, { error: 'expected at least one input' });
      await new Promise((r) => setTimeout(r, inferMs));
      return sendJson(res, 200, { model_name: model, model_version: '1', outputs: inputs.map((i, k) => ({ name: `OUTPUT${k}`, shape: i.shape, datatype: i.datatype, data: i.data })) });
    }
    return generate(model, body, res, m[2] === 'generate_stream', start);
  }

  return serveStandIn(handle, (res, message) => sendJson(res, 500, { error: message }), port, host);
}
