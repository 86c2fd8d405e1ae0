// A FAKE vLLM for tests: a STAND-IN because vLLM needs a GPU and model weights.
// It follows vLLM's OpenAI-compatible HTTP protocol (models, completions, chat,
// SSE with include_usage and continuous_usage_stats, error events) and answers
// on a scripted timeline (llm-timeline.ts) so tests know what a client must
// measure, and which faults (error statuses in vLLM's error shape, error
// events, cut-off chunks, drops, stalls) it must count.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { play, simpleTimeline, type Timeline } from './llm-timeline.js';
import { serveStandIn } from './stand-in-http.js';

export interface FakeVllmOptions {
  port?: number;
  host?: string;
  model?: string;
  /** Delay between generated tokens, ms (0: as fast as the event loop allows). */
  tokenDelayMs?: number;
  /** Delay before the first token, ms. */
  ttftMs?: number;
  /** Honour `stream_options.include_usage` (false acts like a server without it, e.g. old Ollama). */
  streamUsage?: boolean;
  /** As vLLM's --api-key: /v1 routes answer 401 without `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Every answer plays this scripted timeline instead of maxTokens tokens ttftMs/tokenDelayMs apart. */
  timeline?: Timeline;
}

export interface FakeVllm {
  url: string;
  port: number;
  /** Completion requests received so far (all endpoints, good or bad). */
  readonly requests: number;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
const DEFAULT_MAX_TOKENS = 16;
const WORDS = [' the', ' GPU', ' runs', ' many', ' small', ' threads', ' in', ' parallel', '.'];

type Api = 'chat' | 'completions';

interface Parsed {
  api: Api;
  model: string;
  maxTokens: number;
  stream: boolean;
  includeUsage: boolean;
  continuousUsage: boolean;
  promptTokens: number;
}

class BadRequest extends Error {}

function sendJson(res: ServerResponse, status: number, doc: unknown): void {
  const body = JSON.stringify(doc);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** vLLM's error shape. */
function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  sendJson(res, status, { object: 'error', message, type, param: null, code: status });
}

const words = (s: string) => s.split(/\s+/).filter(Boolean).length;

function parse(api: Api, raw: string): Parsed {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new BadRequest('request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('request body must be a JSON object');
  if (typeof body.model !== 'string' || body.model === '') throw new BadRequest('field "model" is required');
  let promptTokens: number;
  if (api === 'chat') {
    const msgs = body.messages;
    if (!Array.isArray(msgs) || msgs.length === 0) throw new BadRequest('field "messages" must be a non-empty list');
    for (const m of msgs) {
      if (typeof m !== 'object' || m === null || typeof m.role !== 'string' || typeof m.content !== 'string') {
        throw new BadRequest('each message needs a string "role" and "content"');
      }
    }
    promptTokens = msgs.reduce((n: number, m: { content: string }) => n + words(m.content), 0);
  } else {
    const p = body.prompt;
    if (typeof p === 'string') promptTokens = words(p);
    else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === 'string')) promptTokens = p.reduce((n: number, x: string) => n + words(x), 0);
    else throw new BadRequest('field "prompt" must be a string or a list of strings');
  }
  const mt = body.max_tokens ?? DEFAULT_MAX_TOKENS;
  if (typeof mt !== 'number' || !Number.isInteger(mt) || mt < 1) throw new BadRequest('"max_tokens" must be a positive integer');
  if (body.temperature !== undefined && (typeof body.temperature !== 'number' || body.temperature < 0)) throw new BadRequest('"temperature" must be a number >= 0');
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw new BadRequest('"stream" must be a boolean');
  const so = body.stream_options as { include_usage?: unknown; continuous_usage_stats?: unknown } | undefined;
  return {
    api,
    model: body.model,
    maxTokens: mt,
    stream: body.stream === true,
    includeUsage: so?.include_usage === true,
    continuousUsage: so?.continuous_usage_stats === true,
    promptTokens,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new BadRequest('request body is too large'));
      else parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeVllm(options: FakeVllmOptions = {}): Promise<FakeVllm> {
  const { port = 0, host = '127.0.0.1', model = 'facebook/opt-125m', tokenDelayMs = 1, ttftMs = 5, streamUsage = true, apiKey, timeline } = options;
  const created = Math.floor(Date.now() / 1000);
  let requests = 0;
  let nextId = 0;

  const usage = (p: Parsed, tokens: number) => ({ prompt_tokens: p.promptTokens, completion_tokens: tokens, total_tokens: p.promptTokens + tokens });
  const text = (tokens: number, from: number) => Array.from({ length: tokens }, (_, k) => WORDS[(from + k) % WORDS.length]).join('');

  async function complete(p: Parsed, res: ServerResponse, start: number): Promise<void> {
    const id = `${p.api === 'chat' ? 'chatcmpl' : 'cmpl'}-${nextId++}`;
    const object = p.api === 'chat' ? 'chat.completion' : 'text_completion';
    // Without a script it generates exactly max_tokens: the fake never emits a stop token.
    const t = timeline ?? simpleTimeline(p.maxTokens, ttftMs, tokenDelayMs);
    const total = t.chunks.reduce((n, c) => n + c.tokens, 0);
    const status = (code: number) =>
      code < 500
        ? sendError(res, code, 'BadRequestError', `This model's maximum context length is 2048 tokens. However, you requested ${p.promptTokens + 2048} tokens (${p.promptTokens} in the messages, 2048 in the completion). Please reduce the length of the messages or completion.`)
        : sendError(res, code, 'InternalServerError', 'EngineCore encountered an issue. See stack trace (above) for the root cause.');
    if (!p.stream) {
      // The whole answer at the end of the timeline; a failure before it is a status, as nothing was sent yet.
      let cut = false;
      const done = await play(t, start, res, {
        chunk: () => undefined,
        error: () => status(500),
        malformed: () => void (cut = true),
        status,
      });
      if (!done) return;
      const choice =
        p.api === 'chat'
          ? { index: 0, message: { role: 'assistant', content: text(total, 0) }, finish_reason: 'length' }
          : { index: 0, text: text(total, 0), logprobs: null, finish_reason: 'length' };
      const doc = { id, object, created, model: p.model, choices: [choice], usage: usage(p, total) };
      if (!cut) return sendJson(res, 200, doc);
      // Malformed: the document cut off halfway, as a proxy that lost the rest would pass it on.
      const body = JSON.stringify(doc);
      res.writeHead(200, { 'content-type': 'application/json' }).end(body.slice(0, body.length >> 1));
      return;
    }
    const chunkObject = p.api === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    const chunkJson = (choices: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ id, object: chunkObject, created, model: p.model, choices, ...extra });
    const send = (choices: unknown[], extra: Record<string, unknown> = {}) => res.write(`data: ${chunkJson(choices, extra)}\n\n`);
    const running = (sofar: number) => (p.continuousUsage && streamUsage ? { usage: usage(p, sofar) } : {});
    const choiceOf = (words: string, finish: string | null, reasoning = false) =>
      p.api === 'chat'
        ? { index: 0, delta: reasoning ? { reasoning_content: words } : { content: words }, finish_reason: finish }
        : { index: 0, text: words, logprobs: null, finish_reason: finish };
    const done = await play(t, start, res, {
      begin: () => {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
        // Like vLLM, chat opens with a role-only delta that carries no token.
        if (p.api === 'chat' || t.emptyFirst) {
          send([p.api === 'chat' ? { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null } : { index: 0, text: '', logprobs: null, finish_reason: null }], running(0));
        }
      },
      chunk: (c, i, sofar) => {
        const last = i === t.chunks.length - 1;
        send([choiceOf(text(c.tokens, sofar - c.tokens), last ? 'length' : null, c.reasoning)], running(sofar));
      },
      error: () => res.write(`data: ${JSON.stringify({ error: { object: 'error', message: 'KV cache is full', type: 'InternalServerError', code: 500 } })}\n\n`),
      // A chunk cut off halfway: what a broken proxy or a crashed writer leaves.
      malformed: () => {
        const json = chunkJson([choiceOf(text(1, 0), null)]);
        res.write(`data: ${json.slice(0, json.length >> 1)}\n\n`);
      },
      status,
    });
    if (!done) return;
    if (p.includeUsage && streamUsage) send([], { usage: usage(p, total) });
    res.end('data: [DONE]\n\n');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The timeline counts from the request's arrival, as a server's own timings would.
    const start = performance.now();
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health') {
      res.writeHead(200).end();
      return;
    }
    // Like vLLM started with --api-key: every /v1 route wants the bearer token; /health stays open.
    if (apiKey !== undefined && path.startsWith('/v1') && req.headers.authorization !== `Bearer ${apiKey}`) {
      sendJson(res, 401, { error: 'Unauthorized' });
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, { object: 'list', data: [{ id: model, object: 'model', created, owned_by: 'vllm', root: model, parent: null, max_model_len: 2048 }] });
      return;
    }
    const api: Api | undefined = path === '/v1/chat/completions' ? 'chat' : path === '/v1/completions' ? 'completions' : undefined;
    if (api === undefined) {
      sendJson(res, 404, { detail: 'Not Found' });
      return;
    }
    if (req.method !== 'POST') {
      sendJson(res, 405, { detail: 'Method Not Allowed' });
      return;
    }
    requests++;
    let parsed: Parsed;
    try {
      parsed = parse(api, await readBody(req));
    } catch (e) {
      if (e instanceof BadRequest) return sendError(res, 400, 'BadRequestError', e.message);
      throw e;
    }
    if (parsed.model !== model) return sendError(res, 404, 'NotFoundError', `The model \`${parsed.model}\` does not exist.`);
    await complete(parsed, res, start);
  }

  const server = await serveStandIn(handle, (res, message) => sendError(res, 500, 'InternalServerError', message), port, host);
  return {
    ...server,
    get requests() {
      return requests;
    },
  };
}
