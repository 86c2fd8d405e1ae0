// A FAKE Ollama for tests: a STAND-IN, because Ollama needs model weights from
// the internet. It follows Ollama's native HTTP API for what aifb uses:
// GET /api/tags, POST /api/pull, POST /api/chat and /api/generate streamed as
// NDJSON (one token per line) with a last object carrying Ollama's own timings
// in nanoseconds; the first request after a pull pays a model load (loadMs), as
// a cold Ollama does. Answers play a scripted timeline (llm-timeline.ts).
// A pull streams progress as Ollama does (per layer: digest, total, completed),
// refuses an unknown model with HTTP 500, and stops (adding nothing) when the
// client goes away.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { play, simpleTimeline, type Timeline } from './llm-timeline.js';
import { serveStandIn } from './stand-in-http.js';

export interface FakeOllamaOptions {
  port?: number;
  host?: string;
  /** Models it has at start ("name:tag"). */
  models?: string[];
  /** Models /api/pull can fetch; any name when unset. */
  pullable?: string[];
  /** Models /api/pull answers as Ollama does for a name its library lacks: HTTP 500, "file does not exist". */
  unpullable?: string[];
  /** Models whose pull streams half its progress, then an `{"error"}` object (a registry connection that broke). */
  brokenPull?: string[];
  /** How long a pull takes in all, spread over its progress lines. */
  pullMs?: number;
  /** Size of the model's weights layer in a pull's progress (default 1.3 GB, as llama3.2:1b). */
  pullBytes?: number;
  /** Progress objects for the weights layer (Ollama sends one every 60 ms, so thousands for a big model). */
  pullSteps?: number;
  /** The first answer after a model arrives waits this long first (load_duration). */
  loadMs?: number;
  timeline?: Timeline;
}

export interface FakeOllama {
  url: string;
  port: number;
  readonly models: string[];
  readonly pulls: string[];
  close(): Promise<void>;
}

const WORDS = [' The', ' sky', ' is', ' blue', ' because', ' of', ' Rayleigh', ' scattering', '.'];
const ns = (ms: number) => Math.round(ms * 1e6);

function sendJson(res: ServerResponse, status: number, doc: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(doc));
}

interface Progress {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

const layerDigest = (model: string, layer: string) => `sha256:${createHash('sha256').update(`${model}/${layer}`).digest('hex')}`;

/** A pull's progress before its success, as Ollama streams it: the manifest, each layer (weights, then small ones), the checks. */
function pullProgress(model: string, weightBytes: number, steps: number): Progress[] {
  const layer = (d: string, total: number, completed: number): Progress => ({ status: `pulling ${d.slice(7, 19)}`, digest: d, total, completed });
  const weights = layerDigest(model, 'weights');
  const out: Progress[] = [{ status: 'pulling manifest' }];
  for (let i = 0; i <= steps; i++) out.push(layer(weights, weightBytes, Math.round((weightBytes * i) / steps)));
  for (const [what, size] of [['template', 1_429], ['license', 7_711], ['params', 96]] as const) out.push(layer(layerDigest(model, what), size, size));
  out.push({ status: 'verifying sha256 digest' }, { status: 'writing manifest' });
  return out;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  const v = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as unknown;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('body must be a JSON object');
  return v as Record<string, unknown>;
}

export async function startFakeOllama(options: FakeOllamaOptions = {}): Promise<FakeOllama> {
  const { port = 0, host = '127.0.0.1', pullMs = 20, pullBytes = 1_321_098_329, pullSteps = 5, loadMs = 0, timeline } = options;
  const models = [...(options.models ?? ['llama3.2:latest'])];
  const cold = new Set<string>(loadMs > 0 ? models : []);
  const pulls: string[] = [];
  const known = (name: string) => models.find((m) => m === name || m === `${name}:latest`);

  async function answer(api: 'chat' | 'generate', body: Record<string, unknown>, res: ServerResponse, start: number): Promise<void> {
    const model = known(String(body.model ?? ''));
    if (!model) return sendJson(res, 404, { error: `model "${String(body.model)}" not found, try pulling it first` });
    const opts = (body.options ?? {}) as { num_predict?: number };
    const t = timeline ?? simpleTimeline(opts.num_predict ?? 8, 5, 1);
    const load = cold.delete(model) ? loadMs : 0;
    const stream = body.stream !== false;
    const promptTokens = JSON.stringify(body.messages ?? body.prompt ?? '').split(/\s+/).length;
    const line = (obj: Record<string, unknown>) => res.write(`${JSON.stringify({ model, created_at: new Date().toISOString(), ...obj })}\n`);
    const piece = (text: string, thinking: boolean) =>
      api === 'chat' ? { message: { role: 'assistant', content: thinking ? '' : text, ...(thinking ? { thinking: text } : {}) } } : { response: thinking ? '' : text, ...(thinking ? { thinking: text } : {}) };
    // The load happens before the first token: the whole timeline shifts by it.
    const shifted: Timeline = load > 0 ? { ...t, chunks: t.chunks.map((c, i) => (i === 0 ? { ...c, afterMs: c.afterMs + load } : c)) } : t;
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    let count = 0;
    const done = await play(shifted, start, res, {
      chunk: (c) => {
        count += c.tokens;
        if (stream) line({ ...piece(WORDS[count % WORDS.length], c.reasoning === true), done: false });
      },
      error: () => line({ error: 'an error was encountered while running the model: CUDA error: out of memory' }),
    });
    if (!done) return;
    const total = performance.now() - start;
    const promptEval = Math.min(2, total);
    line({
      ...piece(stream ? '' : WORDS.slice(0, count).join(''), false),
      done: true,
      done_reason: 'length',
      total_duration: ns(total),
      load_duration: ns(load),
      prompt_eval_count: promptTokens,
      prompt_eval_duration: ns(promptEval),
      eval_count: count,
      eval_duration: ns(Math.max(0, total - load - promptEval)),
    });
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const start = performance.now();
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/') return void res.writeHead(200).end('Ollama is running');
    if (req.method === 'GET' && path === '/api/version') return sendJson(res, 200, { version: '0.6.0-stand-in' });
    if (req.method === 'GET' && path === '/api/tags') {
      return sendJson(res, 200, { models: models.map((name) => ({ name, model: name, size: 2_019_393_189, details: { family: 'llama' } })) });
    }
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed' });
    let body: Record<string, unknown>;
    try {
      body = await readJson(req);
    } catch (e) {
      return sendJson(res, 400, { error: (e as Error).message });
    }
    if (path === '/api/pull') {
      const name = String(body.model ?? body.name ?? '');
      const refused = (options.pullable && !options.pullable.includes(name)) || options.unpullable?.includes(name);
      if (refused) return sendJson(res, 500, { error: 'pull model manifest: file does not exist' });
      pulls.push(name);
      const full = name.includes(':') ? name : `${name}:latest`;
      const arrive = () => {
        if (!models.includes(full)) models.push(full);
        if (loadMs > 0) cold.add(full);
      };
      if (body.stream === false) {
        await new Promise((r) => setTimeout(r, pullMs));
        arrive();
        return sendJson(res, 200, { status: 'success' });
      }
      let gone = false;
      res.once('close', () => (gone = true));
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const weights = layerDigest(full, 'weights');
      for (const progress of pullProgress(full, pullBytes, pullSteps)) {
        // A client that went away cancels the pull, as Ollama's does: nothing arrives.
        if (gone) return;
        if (progress.digest !== weights) {
          res.write(`${JSON.stringify(progress)}\n`);
          continue;
        }
        await new Promise((r) => setTimeout(r, pullMs / (pullSteps + 1)));
        if (options.brokenPull?.includes(name) && progress.completed! >= pullBytes / 2) {
          res.write(`${JSON.stringify({ error: 'max retries exceeded: read tcp 10.0.0.7:51234->104.21.75.227:443: read: connection reset by peer' })}\n`);
          return void res.end();
        }
        res.write(`${JSON.stringify(progress)}\n`);
      }
      if (gone) return;
      arrive();
      res.write(`${JSON.stringify({ status: 'success' })}\n`);
      return void res.end();
    }
    if (path === '/api/chat') return answer('chat', body, res, start);
    if (path === '/api/generate') return answer('generate', body, res, start);
    sendJson(res, 404, { error: '404 page not found' });
  }

  const server = await serveStandIn(handle, (res, message) => sendJson(res, 500, { error: message }), port, host);
  return { ...server, models, pulls };
}
