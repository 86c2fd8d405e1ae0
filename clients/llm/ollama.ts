// Ollama's native API: /api/chat and /api/generate, streamed as one JSON object
// per line (NDJSON). Its last object carries the server's own timings in
// nanoseconds (total, load, prompt eval, eval) and token counts, which the
// record keeps beside the client's timings: a report then shows the server's
// share and the network-plus-queue share, and flags cold model loads.
import { errorText, excerpt } from '../http-common.js';
import { notJson } from './failure.js';
import { promptText, type PromptItem } from './prompts.js';
import { num, parseJsonBody, type AnswerReader, type Call, type CallAnswer, type LlmProtocol, type Prepared, type PreparedRequest } from './protocol.js';
import type { LlmRecord } from './record.js';
import type { LlmWorkload } from './schema.js';

interface Line {
  message?: { content?: unknown; thinking?: unknown };
  response?: unknown;
  thinking?: unknown;
  done?: unknown;
  error?: unknown;
  total_duration?: unknown;
  load_duration?: unknown;
  prompt_eval_count?: unknown;
  prompt_eval_duration?: unknown;
  eval_count?: unknown;
  eval_duration?: unknown;
}

const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v.length > 0;
const ms = (ns: unknown): number | undefined => {
  const n = num(ns);
  return n === undefined ? undefined : n / 1e6;
};

/** The final object's counts and timings into the record. */
function takeFinal(line: Line, record: LlmRecord): void {
  const input = num(line.prompt_eval_count);
  const output = num(line.eval_count);
  if (input !== undefined) record.inputTokens = input;
  if (output !== undefined) record.outputTokens = output;
  record.server = {
    totalMs: ms(line.total_duration),
    loadMs: ms(line.load_duration),
    promptEvalMs: ms(line.prompt_eval_duration),
    evalMs: ms(line.eval_duration),
    promptEvalCount: input,
    evalCount: output,
  };
}

export function ollamaProtocol(w: LlmWorkload, api: 'chat' | 'generate'): LlmProtocol {
  const path = api === 'chat' ? '/api/chat' : '/api/generate';

  return {
    async prepare(call: Call, origin: string): Promise<Prepared> {
      let res: CallAnswer;
      try {
        res = await call('GET', '/api/tags');
      } catch (e) {
        throw new Error(`cannot reach Ollama at ${origin} (GET /api/tags): ${errorText(e)}; check that the Service is running and its host and port are right`);
      }
      if (res.status < 200 || res.status >= 300) throw new Error(`GET /api/tags answered HTTP ${res.status}: ${excerpt(res.text)}`);
      const doc = parseJsonBody(res.text, 'GET /api/tags') as { models?: Array<{ name?: unknown }> };
      const names = (doc.models ?? []).map((m) => m.name).filter((n): n is string => typeof n === 'string');
      if (w.model !== undefined) {
        // `llama3` is listed as `llama3:latest`.
        const known = names.some((n) => n === w.model || n === `${w.model}:latest`);
        if (!known) {
          throw new Error(
            `Ollama does not have model ${w.model} (it has: ${names.join(', ') || 'none'}); set workload.model to one it has, or name ${w.model} as the Service's model so it is pulled at start`,
          );
        }
        return { model: w.model, served: names };
      }
      if (names.length === 0) throw new Error('Ollama has no model; set the Service\'s model (pulled at start) or workload.model');
      return { model: names[0], served: names };
    },

    request(prompt: PromptItem, model: string | undefined): PreparedRequest {
      const common = { model, stream: w.stream, options: { num_predict: prompt.maxTokens, temperature: w.temperature } };
      const body = api === 'chat' ? { ...common, messages: prompt.messages } : { ...common, prompt: promptText(prompt) };
      return { path, body: Buffer.from(JSON.stringify(body)) };
    },

    reader(_contentType: string, record: LlmRecord, now: () => number): AnswerReader {
      let pending = '';
      let finished = false;
      const line = (text: string): void => {
        if (text.trim() === '') return;
        let obj: Line;
        try {
          obj = JSON.parse(text) as Line;
        } catch {
          throw notJson(`malformed ${w.stream ? 'stream: a line' : 'answer: a line'}`, text);
        }
        const at = now();
        if (obj.error !== undefined) throw new Error(`server error${w.stream ? ' in stream' : ''}: ${excerpt(String(obj.error))}`);
        const content = api === 'chat' ? obj.message?.content : obj.response;
        const thinking = api === 'chat' ? obj.message?.thinking : obj.thinking;
        if (nonEmpty(content) || nonEmpty(thinking)) {
          if (nonEmpty(content)) record.firstContent ??= at;
          if (nonEmpty(thinking)) record.firstReasoning ??= at;
          // Ollama streams one token per line.
          if (w.stream) record.chunks.push([at, 1]);
        }
        if (obj.done === true) {
          takeFinal(obj, record);
          finished = true;
        }
      };
      return {
        data(piece: string): void {
          if (finished) return;
          pending += piece;
          let nl = pending.indexOf('\n');
          while (nl !== -1 && !finished) {
            line(pending.slice(0, nl));
            pending = pending.slice(nl + 1);
            nl = pending.indexOf('\n');
          }
        },
        end(): void {
          if (!finished && pending !== '') line(pending);
          record.done = now();
          if (!finished) throw new Error('the stream ended before its "done": true object: the server closed the response early');
        },
      };
    },
  };
}
