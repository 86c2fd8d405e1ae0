// Reads an OpenAI-style server-sent-event completion stream (`data: {json}`
// lines until `data: [DONE]`) and counts the output tokens it carried.
import { excerpt } from '../http-common.js';

export type LlmApi = 'chat' | 'completions';

export interface StreamOutcome {
  /** Output tokens: the server's usage count when it sent one, else the chunks that carried text. */
  tokens: number;
  /** Chunks with non-empty text (a role-only or finish chunk carries none). */
  contentChunks: number;
  /** `usage.completion_tokens` from the stream (sent with `stream_options.include_usage`). */
  usageTokens?: number;
  /** `usage.prompt_tokens` from the stream, when the server sent usage. */
  promptTokens?: number;
}

interface Chunk {
  choices?: Array<{ text?: unknown; delta?: { content?: unknown; reasoning_content?: unknown } }>;
  usage?: { completion_tokens?: unknown; prompt_tokens?: unknown } | null;
  error?: unknown;
  object?: unknown;
  message?: unknown;
}

const nonEmpty = (v: unknown) => typeof v === 'string' && v.length > 0;

function carriesText(chunk: Chunk, api: LlmApi): boolean {
  const choice = chunk.choices?.[0];
  if (!choice) return false;
  if (api === 'completions') return nonEmpty(choice.text);
  // Reasoning models stream their thinking as reasoning_content: output tokens too.
  return nonEmpty(choice.delta?.content) || nonEmpty(choice.delta?.reasoning_content);
}

/** vLLM reports a failure inside an already-started stream as an error object, not a status. */
function streamError(chunk: Chunk): string | undefined {
  if (chunk.error !== undefined && chunk.error !== null) {
    const e = chunk.error as { message?: unknown };
    return typeof e.message === 'string' ? e.message : JSON.stringify(chunk.error);
  }
  if (chunk.object === 'error') return typeof chunk.message === 'string' ? chunk.message : 'unknown error';
  return undefined;
}

/**
 * Consumes the whole stream. `onText` runs for every chunk that carries text:
 * the first is the time to first token, the gaps between them the inter-token latency. Throws on an error event, on a
 * line that is not JSON, and on a stream that ends without `data: [DONE]`
 * (the server dropped the response half way).
 */
export async function readCompletionStream(body: AsyncIterable<string>, api: LlmApi, onText?: () => void): Promise<StreamOutcome> {
  let pending = '';
  let contentChunks = 0;
  let usageTokens: number | undefined;
  let promptTokens: number | undefined;
  let done = false;

  const line = (raw: string) => {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    // Blank separators, `: keep-alive` comments and `event:`/`id:` fields carry no data.
    if (!text.startsWith('data:')) return;
    const data = text.slice(5).trim();
    if (data === '[DONE]') {
      done = true;
      return;
    }
    if (data === '') return;
    let chunk: Chunk;
    try {
      chunk = JSON.parse(data) as Chunk;
    } catch {
      throw new Error(`stream sent a data line that is not JSON: ${excerpt(data)}`);
    }
    const err = streamError(chunk);
    if (err !== undefined) throw new Error(`server error in stream: ${excerpt(err)}`);
    if (carriesText(chunk, api)) {
      onText?.();
      contentChunks++;
    }
    const u = chunk.usage?.completion_tokens;
    if (typeof u === 'number') usageTokens = u;
    const pt = chunk.usage?.prompt_tokens;
    if (typeof pt === 'number') promptTokens = pt;
  };

  for await (const piece of body) {
    if (done) continue; // drain whatever follows [DONE] so the connection can be reused
    pending += piece;
    let start = 0;
    for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n', start)) {
      line(pending.slice(start, nl));
      start = nl + 1;
      if (done) break;
    }
    pending = start === 0 ? pending : pending.slice(start);
  }
  if (!done && pending !== '') line(pending);
  if (!done) throw new Error('stream ended before "data: [DONE]": the server closed the response early');
  return {
    tokens: usageTokens ?? contentChunks,
    contentChunks,
    ...(usageTokens !== undefined ? { usageTokens } : {}),
    ...(promptTokens !== undefined ? { promptTokens } : {}),
  };
}
