// Each protocol's reader against the exact bytes its server sends, split
// across reads, with a scripted clock: what lands in the request's record.
import { describe, expect, it, vi } from 'vitest';
import { ollamaProtocol } from '../../../../clients/llm/ollama.js';
import { openaiProtocol } from '../../../../clients/llm/openai.js';
import type { LlmProtocol } from '../../../../clients/llm/protocol.js';
import type { LlmRecord } from '../../../../clients/llm/record.js';
import { LlmWorkload } from '../../../../clients/llm/schema.js';
import { tritonProtocol } from '../../../../clients/llm/triton.js';

/** A 2xx answer whose body arrives in these pieces; now() gives 10, 20, 30... once per stamp taken. */
function answer(contentType: string, pieces: string[]) {
  let t = 0;
  return { res: { contentType, pieces }, now: () => (t += 10) };
}

/** Feeds the answer to the protocol's reader as the client does: each piece as it comes, then the end. */
async function read(p: LlmProtocol, res: { contentType: string; pieces: string[] }, r: LlmRecord, now: () => number): Promise<void> {
  const reader = p.reader(res.contentType, r, now);
  for (const piece of res.pieces) reader.data(piece);
  reader.end();
}

const record = (): LlmRecord => ({ sent: 0, chunks: [], done: 0 });
const w = (over: Record<string, unknown> = {}) => LlmWorkload.parse({ type: 'llm', ...over });
const sse = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;

describe('OpenAI-compatible streams', () => {
  const chat = openaiProtocol(w(), 'chat');

  it('skips the empty role-only first chunk, keeps reasoning apart, and takes usage from the last chunk', async () => {
    const events = [
      sse({ choices: [{ delta: { role: 'assistant', content: '' } }] }),
      sse({ choices: [{ delta: { reasoning_content: 'Let me think' } }] }),
      sse({ choices: [{ delta: { content: 'Hel' } }] }),
      sse({ choices: [{ delta: { content: 'lo' } }] }),
      sse({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 3, completion_tokens_details: { reasoning_tokens: 1 } } }),
      'data: [DONE]\n\n',
    ];
    const stream = events.join('');
    // Each piece ends 5 characters into an event, so every event is put together across two reads.
    const after = (n: number) => events.slice(0, n).join('').length + 5;
    const pieces = [stream.slice(0, 33), stream.slice(33, after(2)), stream.slice(after(2), after(3)), stream.slice(after(3))];
    const { res, now } = answer('text/event-stream', pieces);
    const r = record();
    await read(chat, res, r, now);
    // The clock is read once per piece that completes an event: the role-only and reasoning chunks share 10.
    expect(r).toMatchObject({ firstReasoning: 10, firstContent: 20, chunks: [[10, 1], [20, 1], [30, 1]], inputTokens: 12, outputTokens: 3, reasoningTokens: 1, done: 40 });
  });

  it("reads a later answer's chunks from what the first answer's taught, though its id, created time and usage differ", async () => {
    const chunk = (id: string, created: number, delta: Record<string, unknown>) =>
      sse({ id, object: 'chat.completion.chunk', created, model: 'm', choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] });
    const stream = (id: string, created: number, tokens: string[], prompt: number) =>
      [
        chunk(id, created, { role: 'assistant', content: '' }),
        ...tokens.map((t) => chunk(id, created, { content: t })),
        sse({ id, choices: [], usage: { prompt_tokens: prompt, completion_tokens: tokens.length, total_tokens: prompt + tokens.length } }),
        'data: [DONE]\n\n',
      ].join('');
    const client = openaiProtocol(w(), 'chat');
    const parses = vi.spyOn(JSON, 'parse');
    try {
      const first = record();
      await read(client, answer('text/event-stream', [stream('chatcmpl-1', 1733460000, ['a', 'b', 'c'], 2)]).res, first, () => 1);
      const learning = parses.mock.calls.length;
      parses.mockClear();
      const later = record();
      await read(client, answer('text/event-stream', [stream('chatcmpl-2f8e', 1733460001, ['d', 'e', 'f', 'g'], 17)]).res, later, () => 1);
      // The first answer: its role chunk, its first token and its usage, each with the proof of where its values sit.
      expect(learning).toBe(6);
      // A later one: none, its usage read from the text.
      expect(parses.mock.calls.length).toBe(0);
      expect(later).toMatchObject({ chunks: [[1, 1], [1, 1], [1, 1], [1, 1]], inputTokens: 17, outputTokens: 4 });
      expect(first).toMatchObject({ inputTokens: 2, outputTokens: 3 });
    } finally {
      parses.mockRestore();
    }
  });

  it('stamps every event of one read with the one time they arrived', async () => {
    const stream = [sse({ choices: [{ delta: { content: 'a' } }] }), sse({ choices: [{ delta: { content: 'b' } }] }), 'data: [DONE]\n\n'].join('');
    const { res, now } = answer('text/event-stream', [stream]);
    const r = record();
    await read(chat, res, r, now);
    expect(r.chunks).toEqual([[10, 1], [10, 1]]);
    expect(r.done).toBe(20);
  });

  it('knows how many tokens a chunk carried from continuous usage', async () => {
    const stream = [
      sse({ choices: [{ delta: { content: 'a b' } }], usage: { prompt_tokens: 5, completion_tokens: 2 } }),
      sse({ choices: [{ delta: { content: ' c d e' } }], usage: { prompt_tokens: 5, completion_tokens: 5 } }),
      sse({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 5 } }),
      'data: [DONE]\n\n',
    ];
    const { res, now } = answer('text/event-stream; charset=utf-8', stream);
    const r = record();
    await read(chat, res, r, now);
    expect(r.chunks).toEqual([[10, 2], [20, 3]]);
  });

  it('joins a multi-line data field and reads completions text with CRLF line ends', async () => {
    const completions = openaiProtocol(w({ api: 'completions' }), 'completions');
    const { res, now } = answer('text/event-stream', ['data: {"choices":\r\n', 'data: [{"text": "x"}]}\r\n\r\n: keep-alive\r\n\r\ndata: [DONE]\r\n\r\n']);
    const r = record();
    await read(completions, res, r, now);
    expect(r.chunks).toEqual([[10, 1]]);
  });

  it('fails on a stream cut before [DONE], an error event, and a data line that is not JSON', async () => {
    for (const [stream, why] of [
      [sse({ choices: [{ delta: { content: 'a' } }] }), /ended before "data: \[DONE\]"/],
      [sse({ choices: [{ delta: { content: 'a' } }] }) + 'data: {"choi', /ended before "data: \[DONE\]" in the middle of an event/],
      [sse({ object: 'error', message: 'KV cache is full', code: 500 }), /server error in stream: KV cache is full/],
      // The reason is the same whatever the bytes (it counts a class of failure); the bytes go to the record.
      ['data: {oops\n\n', /^malformed stream: an event's data is not JSON \(cut off or broken\)$/],
      ['data: <html>502</html>\n\n', /^malformed stream: an event's data is not JSON \(HTML\)$/],
    ] as const) {
      const { res, now } = answer('text/event-stream', [stream]);
      await expect(read(chat, res, record(), now)).rejects.toThrow(why);
    }
  });

  it('reads a whole answer when the server does not stream', async () => {
    const { res, now } = answer('application/json', [JSON.stringify({ choices: [{ message: { content: 'hi' } }], usage: { prompt_tokens: 4, completion_tokens: 2 } })]);
    const r = record();
    await read(chat, res, r, now);
    expect(r).toMatchObject({ chunks: [], inputTokens: 4, outputTokens: 2 });
  });

  it("reads a later whole answer from the shape the first one proved, its id, time, text, finish reason and usage its own; a long or failed one with JSON.parse", async () => {
    const whole = (id: string, content: string, finish: string, prompt: number, completion: number) =>
      JSON.stringify({ id, object: 'chat.completion', created: 1733460000 + prompt, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } });
    const client = openaiProtocol(w({ stream: false }), 'chat');
    const parses = vi.spyOn(JSON, 'parse');
    const readWhole = async (text: string) => {
      const r = record();
      parses.mockClear();
      await read(client, answer('application/json', [text.slice(0, 20), text.slice(20)]).res, r, () => 7);
      return { r, parses: parses.mock.calls.length };
    };
    try {
      // The first: read, then proven (a second parse).
      expect(await readWhole(whole('chatcmpl-1', 'Hello there', 'length', 12, 3))).toMatchObject({ r: { inputTokens: 12, outputTokens: 3, done: 7 }, parses: 2 });
      expect(await readWhole(whole('chatcmpl-2b', 'Another "quoted" answer\n', 'stop', 130, 48))).toMatchObject({ r: { inputTokens: 130, outputTokens: 48, done: 7 }, parses: 0 });
      // Longer than a shape is read for: JSON.parse reads it faster.
      expect(await readWhole(whole('chatcmpl-3', 'x'.repeat(2000), 'stop', 9, 400))).toMatchObject({ r: { inputTokens: 9, outputTokens: 400 }, parses: 1 });
      // Anything the shape cannot vouch for goes to JSON.parse, and a failure is still a failure.
      const failed = JSON.stringify({ object: 'error', message: 'KV cache is full' });
      await expect(readWhole(failed)).rejects.toThrow(/server error: KV cache is full/);
    } finally {
      parses.mockRestore();
    }
  });
});

describe("Ollama's NDJSON streams", () => {
  const line = (obj: unknown) => `${JSON.stringify(obj)}\n`;

  it("records each token and the server's own timings from the final object", async () => {
    const chat = ollamaProtocol(w({ protocol: 'ollama' }), 'chat');
    const body = [
      line({ message: { role: 'assistant', content: '', thinking: 'hmm' }, done: false }),
      line({ message: { role: 'assistant', content: 'The' }, done: false }),
      line({ message: { role: 'assistant', content: ' sky' }, done: false }),
      line({ message: { role: 'assistant', content: '' }, done: true, total_duration: 250e6, load_duration: 900e6, prompt_eval_count: 26, prompt_eval_duration: 30e6, eval_count: 2, eval_duration: 200e6 }),
    ].join('');
    const { res, now } = answer('application/x-ndjson', [body.slice(0, 50), body.slice(50)]);
    const r = record();
    await read(chat, res, r, now);
    expect(r).toMatchObject({ firstReasoning: 10, firstContent: 20, chunks: [[10, 1], [20, 1], [30, 1]], inputTokens: 26, outputTokens: 2 });
    expect(r.server).toEqual({ totalMs: 250, loadMs: 900, promptEvalMs: 30, evalMs: 200, promptEvalCount: 26, evalCount: 2 });
  });

  it('fails on an error line and on a stream without its final object', async () => {
    const gen = ollamaProtocol(w({ protocol: 'ollama', api: 'generate' }), 'generate');
    const bad = answer('application/x-ndjson', [line({ response: 'a', done: false }), line({ error: 'model requires more system memory' })]);
    await expect(read(gen, bad.res, record(), bad.now)).rejects.toThrow('server error in stream: model requires more system memory');
    const cut = answer('application/x-ndjson', [line({ response: 'a', done: false })]);
    await expect(read(gen, cut.res, record(), cut.now)).rejects.toThrow(/ended before its "done": true object/);
  });
});

describe("Triton's generate_stream", () => {
  const gen = tritonProtocol(w({ protocol: 'triton', model: 'llama' }), 'generate');

  it('records text_output events; the stream ends with the connection', async () => {
    const { res, now } = answer('text/event-stream', [sse({ model_name: 'llama', text_output: '' }), sse({ text_output: 'Hi' }), sse({ text_output: '!' })]);
    const r = record();
    await read(gen, res, r, now);
    expect(r).toMatchObject({ firstContent: 20, chunks: [[20, 1], [30, 1]] });
  });

  it('fails on an error event under HTTP 200', async () => {
    const { res, now } = answer('text/event-stream', [sse({ text_output: 'Hi' }), sse({ error: 'Failed to process the request(s) for model llama' })]);
    await expect(read(gen, res, record(), now)).rejects.toThrow('server error in stream: Failed to process the request(s) for model llama');
  });

  it('asks the generate extension with text_input and parameters', () => {
    const req = gen.request({ messages: [{ role: 'user', content: 'Hello' }], maxTokens: 8 }, 'llama');
    expect(req.path).toBe('/v2/models/llama/generate_stream');
    expect(JSON.parse(req.body.toString())).toEqual({ text_input: 'Hello', parameters: { max_tokens: 8, temperature: 0, stream: true } });
  });
});
