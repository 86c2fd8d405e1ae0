// The OpenAI-compatible API (vLLM, TGI, Ollama's /v1, LiteLLM...):
// /v1/chat/completions and /v1/completions, streamed as server-sent events up
// to `data: [DONE]`, token counts from `usage` (in every chunk with vLLM's
// continuous_usage_stats, else in the last one).
import { errorText, excerpt } from '../http-common.js';
import { EventStreamParser } from './event-stream.js';
import { notJson } from './failure.js';
import { carriedBy, type Chunk, ChunkShapes, ChunkTemplate, CONTENT, REASONING, type Usage, UNUSUAL } from './openai-chunk.js';
import { promptText, type PromptItem } from './prompts.js';
import { isEventStream, num, parseAnswer, wholeAnswer, type AnswerReader, type Call, type CallAnswer, type LlmProtocol, type Prepared, type PreparedRequest } from './protocol.js';
import type { LlmRecord } from './record.js';
import type { LlmWorkload } from './schema.js';

/** vLLM reports a failure inside an already-started stream as an error object, not a status. */
function streamError(chunk: Chunk): string | undefined {
  if (chunk.error !== undefined && chunk.error !== null) {
    const e = chunk.error as { message?: unknown };
    return typeof e.message === 'string' ? e.message : JSON.stringify(chunk.error);
  }
  if (chunk.object === 'error') return typeof chunk.message === 'string' ? chunk.message : 'unknown error';
  return undefined;
}

function takeUsage(usage: Usage | null | undefined, record: LlmRecord): number | undefined {
  if (!usage) return undefined;
  const input = num(usage.prompt_tokens);
  const output = num(usage.completion_tokens);
  const reasoning = num(usage.completion_tokens_details?.reasoning_tokens);
  if (input !== undefined) record.inputTokens = input;
  if (output !== undefined) record.outputTokens = output;
  if (reasoning !== undefined) record.reasoningTokens = reasoning;
  return output;
}

/**
 * A streamed answer's events into its record: most chunks read from the
 * template (openai-chunk.ts), the rest by JSON.parse, up to `data: [DONE]`.
 */
class StreamReader implements AnswerReader {
  private readonly parser = new EventStreamParser();
  private readonly template: ChunkTemplate;
  private finished = false;
  /** Tokens the usage said so far. */
  private counted = 0;
  /** Tokens the last chunk carried by its usage (continuous usage stats), when it said. */
  private carried: number | undefined;
  /** When the piece being read arrived: taken at its first event, -1 before. */
  private at = -1;
  private readonly onEvent = (data: string): void => this.event(data);

  constructor(
    private readonly chat: boolean,
    shapes: ChunkShapes,
    private readonly record: LlmRecord,
    private readonly now: () => number,
  ) {
    this.template = new ChunkTemplate(chat, shapes);
  }

  data(piece: string): void {
    if (this.finished) return; // what follows [DONE] is read away by the connection, so it can be reused
    this.at = -1;
    this.parser.push(piece, this.onEvent);
  }

  end(): void {
    this.record.done = this.now();
    if (!this.finished) {
      const cut = this.parser.pending !== '' ? ' in the middle of an event' : '';
      throw new Error(`the stream ended before "data: [DONE]"${cut}: the server closed the response early`);
    }
  }

  private event(data: string): void {
    if (this.finished) return;
    // Every event in a piece arrived with it.
    if (this.at < 0) this.at = this.now();
    if (data === '[DONE]') {
      this.finished = true;
      return;
    }
    this.carried = undefined;
    const { template, record } = this;
    const matched = template.match(data);
    if (template.usage !== undefined) this.count(template.usage);
    const bits = matched === UNUSUAL ? this.parsed(data) : matched;
    // An empty chunk (a role-only first delta) carries no token.
    if (bits === 0) return;
    const at = this.at;
    if (bits & CONTENT) record.firstContent ??= at;
    if (bits & REASONING) record.firstReasoning ??= at;
    const carried = this.carried;
    record.chunks.push([at, carried !== undefined && carried > 0 ? carried : 1]);
  }

  /** With continuous usage every chunk says how many tokens so far: the difference is this chunk's. */
  private count(usage: Usage | null | undefined): void {
    const total = takeUsage(usage, this.record);
    if (total !== undefined) {
      this.carried = total - this.counted;
      this.counted = total;
    }
  }

  /** A chunk the template did not read, by JSON.parse; then learnt from. */
  private parsed(data: string): number {
    let chunk: Chunk;
    try {
      chunk = JSON.parse(data) as Chunk;
    } catch {
      // Fails the request rather than skipping the event: how many tokens it carried is unknown.
      throw notJson("malformed stream: an event's data", data);
    }
    const err = streamError(chunk);
    if (err !== undefined) throw new Error(`server error in stream: ${excerpt(err)}`);
    this.count(chunk.usage);
    this.template.learn(data, chunk);
    return carriedBy(chunk, this.chat);
  }
}

/** The longest whole answer read from a shape: JSON.parse takes about 1 us plus 0.35 ns a character here, a shape's check about 1 ns a character. */
const WHOLE_SHAPE_MAX = 1024;

export function openaiProtocol(w: LlmWorkload, api: 'chat' | 'completions'): LlmProtocol {
  const path = api === 'chat' ? '/v1/chat/completions' : '/v1/completions';
  /** Learnt from one answer's chunks, read from in every later answer's (see openai-chunk.ts). */
  const shapes = new ChunkShapes();
  /** The same for answers that come whole (not streamed): their id, time, message text, finish reason and usage left open. */
  const wholeShapes = new ChunkShapes();
  const chat = api === 'chat';

  return {
    /**
     * GET /v1/models doubles as the reachability check. A named model is not
     * checked against the list: Ollama serves `llama3` while listing
     * `llama3:latest`, and a proxy may route names it does not list, so a
     * wrong name shows up as the server's own 404, whose reason names the list.
     */
    async prepare(call: Call, origin: string): Promise<Prepared> {
      let res: CallAnswer;
      try {
        res = await call('GET', '/v1/models');
      } catch (e) {
        throw new Error(`cannot reach the llm service at ${origin} (GET ${origin}/v1/models): ${errorText(e)}; check that the Service is running and its host and port are right`);
      }
      const text = res.text;
      if (res.status === 401 || res.status === 403) {
        throw new Error(`GET /v1/models answered HTTP ${res.status}: ${excerpt(text) || '(empty body)'}; the server wants an API key: set credentials.token on the Service ({env: NAME} or {file: /path})`);
      }
      const ok = res.status >= 200 && res.status < 300;
      let ids: string[] | undefined;
      try {
        const doc = JSON.parse(text) as { data?: Array<{ id?: unknown }> };
        ids = (doc.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string' && id !== '');
      } catch {
        /* a server without the list: fine when workload.model names the model */
      }
      if (w.model !== undefined) return { model: w.model, ...(ok && ids ? { served: ids } : {}) };
      if (!ok) throw new Error(`GET /v1/models answered HTTP ${res.status}: ${excerpt(text) || '(empty body)'}; set workload.model to the model the server serves`);
      if (!ids) throw new Error(`GET /v1/models did not answer JSON: ${excerpt(text)}; set workload.model to the model the server serves`);
      if (ids.length === 0) throw new Error('GET /v1/models lists no model; load a model into the server or set workload.model');
      return { model: ids[0], served: ids };
    },

    request(prompt: PromptItem, model: string | undefined): PreparedRequest {
      const common = {
        model,
        max_tokens: prompt.maxTokens,
        temperature: w.temperature,
        stream: w.stream,
        ...(w.ignoreEos ? { ignore_eos: true } : {}),
        // Exact token counts in streams (vLLM, Ollama >= 0.5.2); without it chunks are counted.
        ...(w.stream ? { stream_options: { include_usage: true, ...(w.continuousUsage ? { continuous_usage_stats: true } : {}) } } : {}),
      };
      const body = api === 'chat' ? { ...common, messages: prompt.messages } : { ...common, prompt: promptText(prompt) };
      return { path, body: Buffer.from(JSON.stringify(body)) };
    },

    reader(contentType: string, record: LlmRecord, now: () => number): AnswerReader {
      // A server may ignore `stream` and answer with one JSON document.
      if (!w.stream || !isEventStream(contentType)) {
        const template = new ChunkTemplate(chat, wholeShapes);
        return wholeAnswer((text, at) => {
          // Past a few hundred characters of text, JSON.parse reads an answer faster than a shape's holes are checked.
          const short = text.length <= WHOLE_SHAPE_MAX;
          if (short && template.match(text) !== UNUSUAL) {
            record.done = at;
            takeUsage(template.usage, record);
            return;
          }
          const doc = parseAnswer(text, path) as Chunk;
          record.done = at;
          const err = streamError(doc);
          if (err !== undefined) throw new Error(`server error: ${excerpt(err)}`);
          takeUsage(doc.usage, record);
          if (short) template.learn(text, doc);
        }, now);
      }
      return new StreamReader(chat, shapes, record, now);
    },
  };
}
