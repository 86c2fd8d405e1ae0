// LLM client for OpenAI-compatible inference servers (vLLM; Ollama and Triton
// through their OpenAI endpoints): one pooled POST per op, tokens and token timings measured.
import { Pool } from 'undici';
import type { Connection } from '../../api/connection.js';
import { ConfigError, type BenchmarkClient, type Operation, type OperationMix, type OperationResult } from '../client.js';
import type { LlmWorkload } from './schema.js';
import { bodyExcerpt, errorText, excerpt, originOf } from '../http-common.js';
import { readCompletionStream, type LlmApi } from './sse.js';

export interface LlmClientOptions {
  /** Where the server answers; from the Benchmark's service. */
  service?: Connection;
  /** The server's API key (vLLM --api-key): sent as `authorization: Bearer ...`. */
  token?: string;
  /** Connections in the pool: one per request this rank can have in flight. */
  connections: number;
}

const PATHS: Record<LlmApi, string> = { chat: '/v1/chat/completions', completions: '/v1/completions' };
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
/** /v1/models answers at once on a live server; a long wait means something is wrong. */
const MODELS_TIMEOUT_MS = 30_000;

const isEventStream = (contentType: string | string[] | undefined) =>
  (Array.isArray(contentType) ? contentType.join(',') : (contentType ?? '')).includes('text/event-stream');

/**
 * One op = one completion request; the op name is the api (`chat` or
 * `completions`). Each request reports outputTokens and inputTokens (from the
 * server's usage) and, when streamed, ttft and the itl gaps (see ./index.ts).
 */
export class LlmClient implements BenchmarkClient {
  readonly operations: readonly string[];
  readonly mix: OperationMix;
  readonly origin: string;
  private readonly path: string;
  private readonly connections: number;
  private resolvedModel: string | undefined;
  private pool: Pool | undefined;
  /** One complete, serialised request body per prompt: nothing is built per request. */
  private bodies: Buffer[] = [];
  private readonly headers: Record<string, string>;
  private readonly modelsHeaders: Record<string, string>;

  constructor(
    private readonly config: LlmWorkload,
    options: LlmClientOptions,
  ) {
    const endpoint = options.service;
    if (!endpoint) {
      throw new ConfigError([{ path: 'serviceRef', message: 'an llm workload needs a service: set spec.serviceRef (or an inline spec.service)' }]);
    }
    this.origin = originOf(endpoint);
    this.path = PATHS[config.api];
    this.connections = Math.max(1, options.connections);
    this.operations = [config.api];
    this.mix = { operations: { [config.api]: 1 } };
    const auth: Record<string, string> = options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {};
    this.headers = { ...HEADERS, ...auth };
    this.modelsHeaders = { accept: 'application/json', ...auth };
  }

  /** The model requests name: workload.model, or the first one the server listed. */
  get model(): string | undefined {
    return this.resolvedModel;
  }

  async setup(): Promise<void> {
    const timeout = this.config.timeout;
    this.pool = new Pool(this.origin, {
      connections: this.connections,
      // The per-request signal enforces workload.timeout; undici's own 300s limits must not cut in first.
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    this.resolvedModel = await this.resolveModel(this.pool);
    const c = this.config;
    const common = {
      model: this.resolvedModel,
      max_tokens: c.maxTokens,
      temperature: c.temperature,
      stream: c.stream,
      // Exact token counts in streams (vLLM, Ollama >= 0.5.2); without it chunks are counted.
      ...(c.stream ? { stream_options: { include_usage: true } } : {}),
    };
    this.bodies = c.prompts.map((prompt) =>
      Buffer.from(JSON.stringify(c.api === 'chat' ? { ...common, messages: [{ role: 'user', content: prompt }] } : { ...common, prompt })),
    );
  }

  async execute(op: Operation): Promise<OperationResult> {
    const pool = this.pool;
    if (!pool) throw new Error('llm client used before setup()');
    const body = this.bodies[op.seq % this.bodies.length];
    const signal = AbortSignal.timeout(this.config.timeout);
    const started = performance.now();
    try {
      const res = await pool.request({ path: this.path, method: 'POST', headers: this.headers, body, signal });
      if (res.statusCode < 200 || res.statusCode >= 300) {
        throw new Error(`HTTP ${res.statusCode} from POST ${this.path}: ${await bodyExcerpt(res.body)}`);
      }
      // A server may ignore `stream` and answer with one JSON document.
      if (this.config.stream && isEventStream(res.headers['content-type'])) {
        res.body.setEncoding('utf8');
        let ttft: number | undefined;
        let last = 0;
        const itl: number[] = [];
        const out = await readCompletionStream(res.body, this.config.api, () => {
          const now = performance.now() - started;
          if (ttft === undefined) ttft = now;
          else itl.push(now - last);
          last = now;
        });
        const metrics: Record<string, number | number[]> = { outputTokens: out.tokens, itl };
        if (ttft !== undefined) metrics.ttft = ttft;
        if (out.promptTokens !== undefined) metrics.inputTokens = out.promptTokens;
        return { metrics };
      }
      return this.readJson(await res.body.text());
    } catch (e) {
      if (signal.aborted) {
        throw new Error(`no complete answer within ${this.config.timeout} ms (workload.timeout); raise workload.timeout or lower workload.maxTokens`);
      }
      throw e;
    }
  }

  async teardown(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.bodies = [];
    // destroy, not close: requests abandoned by the engine's drain must not hold teardown.
    if (pool) await pool.destroy();
  }

  private readJson(text: string): OperationResult {
    let doc: { usage?: { completion_tokens?: unknown; prompt_tokens?: unknown } };
    try {
      doc = JSON.parse(text);
    } catch {
      throw new Error(`POST ${this.path} answered with something that is not JSON: ${excerpt(text)}`);
    }
    // Without usage the token counts are unknown: report none rather than a guess.
    const metrics: Record<string, number> = {};
    if (typeof doc.usage?.completion_tokens === 'number') metrics.outputTokens = doc.usage.completion_tokens;
    if (typeof doc.usage?.prompt_tokens === 'number') metrics.inputTokens = doc.usage.prompt_tokens;
    return { metrics };
  }

  /**
   * GET /v1/models doubles as the reachability check. A named model is not
   * checked against the list: Ollama serves `llama3` while listing
   * `llama3:latest`, so a wrong name shows up as the server's own 404 instead.
   */
  private async resolveModel(pool: Pool): Promise<string> {
    const where = `${this.origin}/v1/models`;
    let status: number;
    let text: string;
    try {
      const res = await pool.request({ path: '/v1/models', method: 'GET', headers: this.modelsHeaders, signal: AbortSignal.timeout(Math.min(this.config.timeout, MODELS_TIMEOUT_MS)) });
      status = res.statusCode;
      text = await res.body.text();
    } catch (e) {
      throw new Error(`cannot reach the llm service at ${this.origin} (GET ${where}): ${errorText(e)}; check that the Service is running and its host and port are right`);
    }
    if (status === 401 || status === 403) {
      throw new Error(
        `GET ${where} answered HTTP ${status}: ${excerpt(text) || '(empty body)'}; the server wants an API key: set credentials.token on the Service ({env: NAME} or {file: /path})`,
      );
    }
    if (this.config.model !== undefined) return this.config.model;
    if (status < 200 || status >= 300) {
      throw new Error(`GET ${where} answered HTTP ${status}: ${excerpt(text) || '(empty body)'}; set workload.model to the model the server serves`);
    }
    let ids: string[] = [];
    try {
      const doc = JSON.parse(text) as { data?: Array<{ id?: unknown }> };
      ids = (doc.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string' && id !== '');
    } catch {
      throw new Error(`GET ${where} did not answer JSON: ${excerpt(text)}; set workload.model to the model the server serves`);
    }
    if (ids.length === 0) throw new Error(`GET ${where} lists no model; load a model into the server or set workload.model`);
    return ids[0];
  }
}
