// Triton's KServe v2 API: readiness at /v2/health/ready and
// /v2/models/{m}/ready; /v2/models/{m}/infer with the inputs the user gives;
// and the generate extension, /generate (one JSON answer) and
// /generate_stream (server-sent events carrying `text_output`; an event with
// `error` under HTTP 200 is a failed request; the stream ends when the
// connection does). Triton sends no token counts: each event is one token.
import { errorText, excerpt } from '../http-common.js';
import { EventStreamParser } from './event-stream.js';
import { notJson, serverMessage } from './failure.js';
import { promptText, type PromptItem } from './prompts.js';
import { isEventStream, parseAnswer, wholeAnswer, type AnswerReader, type Call, type CallAnswer, type LlmProtocol, type Prepared, type PreparedRequest } from './protocol.js';
import type { LlmRecord } from './record.js';
import type { LlmWorkload } from './schema.js';

const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

export function tritonProtocol(w: LlmWorkload, api: 'generate' | 'infer'): LlmProtocol {
  const model = encodeURIComponent(w.model ?? '');
  const path = api === 'infer' ? `/v2/models/${model}/infer` : `/v2/models/${model}/${w.stream ? 'generate_stream' : 'generate'}`;

  return {
    async prepare(call: Call, origin: string): Promise<Prepared> {
      const get = async (probe: string): Promise<CallAnswer> => {
        try {
          return await call('GET', probe);
        } catch (e) {
          throw new Error(`cannot reach Triton at ${origin} (GET ${probe}): ${errorText(e)}; check that the Service is running and its host and port are right`);
        }
      };
      const health = await get('/v2/health/ready');
      if (health.status !== 200) throw new Error(`Triton is not ready (GET /v2/health/ready answered HTTP ${health.status})`);
      const ready = await get(`/v2/models/${model}/ready`);
      if (ready.status !== 200) {
        // Triton answers 400 both ways: "Request for unknown model" (a name it does not have), "Model version not ready" (loading, or failed to).
        const said = ready.text.trim() === '' ? '' : `: ${serverMessage(ready.text)}`;
        const has = await repositoryIndex(call);
        throw new Error(
          `Triton has no model ${w.model} ready (GET /v2/models/${model}/ready answered HTTP ${ready.status}${said})` +
            `${has ? `; its repository holds ${has}` : ''}; set workload.model to the model's folder name in the repository, or see the server's log for why it did not load`,
        );
      }
      return { model: w.model };
    },

    request(prompt: PromptItem): PreparedRequest {
      const body =
        api === 'infer'
          ? { inputs: w.inputs }
          : { text_input: promptText(prompt), parameters: { max_tokens: prompt.maxTokens, temperature: w.temperature, stream: w.stream } };
      return { path, body: Buffer.from(JSON.stringify(body)) };
    },

    reader(contentType: string, record: LlmRecord, now: () => number): AnswerReader {
      if (api === 'infer' || !w.stream || !isEventStream(contentType)) {
        return wholeAnswer((text, at) => {
          const doc = parseAnswer(text, path);
          record.done = at;
          if (doc.error !== undefined) throw new Error(`server error: ${excerpt(String(doc.error))}`);
          if (api === 'infer' && !Array.isArray(doc.outputs)) throw new Error(`POST ${path} answered without outputs: ${excerpt(JSON.stringify(doc))}`);
        }, now);
      }
      const parser = new EventStreamParser();
      const onEvent = (text: string): void => {
        let data: { text_output?: unknown; error?: unknown };
        try {
          data = JSON.parse(text) as typeof data;
        } catch {
          throw notJson("malformed stream: an event's data", text);
        }
        const at = now();
        if (data.error !== undefined) throw new Error(`server error in stream: ${excerpt(String(data.error))}`);
        if (!nonEmpty(data.text_output)) return;
        record.firstContent ??= at;
        record.chunks.push([at, 1]);
      };
      return {
        data: (piece: string): void => parser.push(piece, onEvent),
        end(): void {
          record.done = now();
          if (parser.pending !== '') throw new Error('the stream ended in the middle of an event: the server closed the response early');
        },
      };
    },
  };
}

/** What the repository holds, as "name (STATE), ..." from the repository extension; undefined when the server does not say. */
async function repositoryIndex(call: Call): Promise<string | undefined> {
  try {
    const res = await call('POST', '/v2/repository/index', '{}');
    if (res.status !== 200) return undefined;
    const models = JSON.parse(res.text) as Array<{ name?: unknown; state?: unknown }>;
    if (!Array.isArray(models)) return undefined;
    const names = models.filter((m) => typeof m?.name === 'string').map((m) => `${m.name as string}${typeof m.state === 'string' && m.state !== '' ? ` (${m.state})` : ''}`);
    return names.length > 0 ? names.join(', ') : 'no model';
  } catch {
    return undefined;
  }
}
