// The LLM client: one pooled POST per operation through the workload's
// protocol (OpenAI-compatible, Ollama, Triton), each answer read into a raw
// record as it streams in, from which every metric is computed (record.ts),
// and the records kept in the run folder when asked. Requests go over the
// http workload's wire client (clients/http/wire.ts), each built to its bytes
// once in setup.
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Connection } from '../../api/connection.js';
import { ConfigError, type BenchmarkClient, type Operation, type OperationMix, type OperationResult } from '../client.js';
import { ANY_STATUS, WirePool, wireRequest, type WireRequest } from '../http/wire.js';
import { hostHeaderOf, originOf, socketTargetOf } from '../http-common.js';
import { AnswerSink, TextSink } from './answer.js';
import { AnswerError, httpFailure, transportFailure } from './failure.js';
import { ollamaProtocol } from './ollama.js';
import { openaiProtocol } from './openai.js';
import { promptsOf, type PromptItem } from './prompts.js';
import type { Call, LlmProtocol, PreparedRequest } from './protocol.js';
import { metricsOf, type LlmRecord } from './record.js';
import { apiOf, type LlmWorkload } from './schema.js';
import { tritonProtocol } from './triton.js';

export interface LlmClientOptions {
  /** Where the server answers; from the Benchmark's service. */
  service?: Connection;
  /** Connections in the pool: one per request this rank can have in flight. */
  connections: number;
  /** The server's API key (vLLM --api-key): sent as `authorization: Bearer ...`. */
  token?: string;
  /** Where to append one JSON line per request (workload.record). */
  recordFile?: string;
}

/** The headers of every request (an API key's authorization added when the Service has one). */
export const LLM_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream, application/x-ndjson' };
/** Setup calls (the model list, readiness) answer at once on a live server; a long wait means something is wrong. */
const SETUP_TIMEOUT_MS = 30_000;

function protocolOf(w: LlmWorkload): LlmProtocol {
  const api = apiOf(w);
  if (w.protocol === 'ollama') return ollamaProtocol(w, api as 'chat' | 'generate');
  if (w.protocol === 'triton') return tritonProtocol(w, api as 'generate' | 'infer');
  return openaiProtocol(w, api as 'chat' | 'completions');
}

/**
 * One op = one request; the op name is the api (`chat`, `completions`,
 * `generate`, `infer`). Each reports the metrics its protocol lets it see
 * (record.ts): tokens always, ttft/itl/tpot when streamed, Ollama's own timings.
 */
export class LlmClient implements BenchmarkClient {
  readonly operations: readonly string[];
  readonly mix: OperationMix;
  readonly origin: string;
  /** `host:port` as the Host header carries it. */
  private readonly host: string;
  private readonly protocol: LlmProtocol;
  private readonly prompts: PromptItem[];
  private readonly headers: Record<string, string>;
  private resolvedModel: string | undefined;
  /** The models the server listed at setup, named when a request asks for one it lacks. */
  private served: string[] | undefined;
  private pool: WirePool | undefined;
  /** One complete, serialised request per prompt: nothing is built per request. */
  private requests: Array<PreparedRequest & { wire: WireRequest }> = [];
  private records: WriteStream | undefined;

  constructor(
    private readonly config: LlmWorkload,
    private readonly options: LlmClientOptions,
  ) {
    if (!options.service) {
      throw new ConfigError([{ path: 'serviceRef', message: 'an llm workload needs a service: set spec.serviceRef (or an inline spec.service)' }]);
    }
    this.origin = originOf(options.service);
    this.host = hostHeaderOf(options.service);
    this.protocol = protocolOf(config);
    // Read now: a prompt file that does not parse is a config problem, found before anything opens.
    this.prompts = promptsOf(config);
    const api = apiOf(config);
    this.operations = [api];
    this.mix = { operations: { [api]: 1 } };
    this.headers = { ...LLM_HEADERS, ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}) };
  }

  /** The model requests name: workload.model, or the first one the server listed. */
  get model(): string | undefined {
    return this.resolvedModel;
  }

  async setup(): Promise<void> {
    const setupPool = this.wirePool(1, SETUP_TIMEOUT_MS);
    try {
      const prepared = await this.protocol.prepare(this.call(setupPool), this.origin);
      this.resolvedModel = prepared.model;
      this.served = prepared.served;
    } finally {
      setupPool.destroy();
    }
    this.requests = this.prompts.map((p) => {
      const r = this.protocol.request(p, this.resolvedModel);
      return { ...r, wire: this.wire('POST', r.path, r.body, this.config.keepAlive === 0) };
    });
    this.pool = this.wirePool(Math.max(1, this.options.connections), this.config.timeout, this.config.keepAlive);
    if (this.options.recordFile) this.records = createWriteStream(this.options.recordFile, { flags: 'a' });
  }

  async execute(op: Operation): Promise<OperationResult> {
    const pool = this.pool;
    if (!pool) throw new Error('llm client used before setup()');
    const req = this.requests[op.seq % this.requests.length];
    const record: LlmRecord = { scheduled: op.scheduled, sent: performance.now(), chunks: [], done: 0 };
    const answer = new AnswerSink(this.protocol, record, now);
    try {
      await pool.send(req.wire, ANY_STATUS, answer);
      if (answer.status < 200 || answer.status >= 300) {
        throw httpFailure(answer.status, answer.errorText, { path: req.path, protocol: this.config.protocol, model: this.resolvedModel, served: this.served });
      }
      answer.end();
      this.keep(record);
      return { metrics: metricsOf(record) };
    } catch (e) {
      record.done = performance.now();
      const reason = e instanceof AnswerError ? e.message : transportFailure(e, answer.status !== 0, req.path, this.config.timeout);
      this.keep(record, reason, e instanceof AnswerError ? e.detail : undefined);
      throw new Error(reason);
    }
  }

  async teardown(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.requests = [];
    const records = this.records;
    this.records = undefined;
    if (records) await new Promise<void>((r) => records.end(r));
    // At once, not after the answers: requests abandoned by the engine's drain must not hold teardown.
    pool?.destroy();
  }

  private wirePool(connections: number, timeoutMs: number, idleMs?: number): WirePool {
    return new WirePool({ ...socketTargetOf(this.options.service!), connections, pipelining: 1, timeoutMs, ...(idleMs !== undefined ? { idleMs } : {}) });
  }

  private wire(method: 'GET' | 'POST', path: string, body?: Buffer, close = false): WireRequest {
    return wireRequest({ method, path, host: this.host, headers: this.headers, ...(body ? { body } : {}), close });
  }

  /** Setup calls over their own connection, with the whole body read. */
  private call(pool: WirePool): Call {
    return async (method, path, body) => {
      const sink = new TextSink();
      await pool.send(this.wire(method, path, body === undefined ? undefined : Buffer.from(body)), ANY_STATUS, sink);
      return { status: sink.status, text: sink.text };
    };
  }

  /** One JSON line per request; a failed one carries its reason and, when something did not parse, what came. */
  private keep(record: LlmRecord, error?: string, detail?: string): void {
    if (!this.records) return;
    const line = error === undefined ? record : { ...record, error, ...(detail !== undefined ? { detail } : {}) };
    this.records.write(`${JSON.stringify(line)}\n`);
  }
}

const now = () => performance.now();
