// A chunk read from its template must carry what JSON.parse says it carries;
// anything the template cannot vouch for goes to JSON.parse.
import { describe, expect, it } from 'vitest';
import { carriedBy, type Chunk, ChunkShapes, ChunkTemplate, CONTENT, REASONING, UNUSUAL, type Usage } from '../../../../clients/llm/openai-chunk.js';

/** A chunk as vLLM streams it, with `delta` as given. */
const vllm = (delta: Record<string, unknown>, over: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 'chatcmpl-7f3a', object: 'chat.completion.chunk', created: 1733460000, model: 'meta-llama/Llama-3.1-8B-Instruct', choices: [{ index: 0, delta, logprobs: null, finish_reason: null }], usage: null, ...over });

function learnt(data: string, chat = true, shapes?: ChunkShapes): ChunkTemplate {
  const t = new ChunkTemplate(chat, shapes);
  t.learn(data, JSON.parse(data) as Chunk);
  return t;
}

/** Shapes learnt from one answer's chunk: what a later answer's template reads from. */
function shapesFrom(data: string): ChunkShapes {
  const shapes = new ChunkShapes();
  learnt(data, true, shapes);
  return shapes;
}

/** A later answer's verdict on one chunk, read with nothing but the shapes (its own template not yet learnt). */
const laterAnswer = (shapes: ChunkShapes, data: string) => new ChunkTemplate(true, shapes).match(data);

/** JSON.parse's verdict on a chunk, UNUSUAL when it is not JSON. */
function parsedVerdict(data: string, chat = true): number {
  try {
    return carriedBy(JSON.parse(data) as Chunk, chat);
  } catch {
    return UNUSUAL;
  }
}

/**
 * Deterministic pseudo-random numbers below n, from a seed: the generator's
 * high bits, as its low bits repeat with short periods (taken modulo a small n,
 * they left some edits never made).
 */
function randomFrom(seed: number): (n: number) => number {
  let s = seed;
  return (n) => Math.floor(((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
}

/**
 * Edits of `base` at random: a character of `alphabet` inserted, or one
 * character deleted. With `within`, the edit lands in one of those texts of
 * `base` three times in four, anywhere else the fourth.
 */
function randomEdits(rand: (n: number) => number, base: string, alphabet: string[], within: string[] = []): () => string {
  const spans = within.map((t) => [base.indexOf(t), base.indexOf(t) + t.length]);
  return () => {
    const [from, to] = spans.length === 0 || rand(4) === 0 ? [0, base.length] : spans[rand(spans.length)];
    const at = from + rand(to - from + 1);
    return rand(2) === 0 ? base.slice(0, at) + alphabet[rand(alphabet.length)] + base.slice(at) : base.slice(0, at) + base.slice(at + 1);
  };
}

describe('ChunkTemplate', () => {
  it('reads a chunk that differs from the learnt one only in its token, escapes and all', () => {
    const t = learnt(vllm({ content: ' Hello' }));
    for (const token of [' world', '"', '\\', '\n', 'é', '😀', '\u0000', ' "quoted" \\path\\ ']) {
      expect(t.match(vllm({ content: token })), JSON.stringify(token)).toBe(CONTENT);
    }
    // Written with \u escapes and a solidus escape, as some servers do.
    const escaped = vllm({ content: 'XX' }).replace('"XX"', '"\\u00e9\\/\\t"');
    expect(t.match(escaped)).toBe(CONTENT);
    expect(parsedVerdict(escaped)).toBe(CONTENT);
  });

  it('hands over every chunk it cannot vouch for', () => {
    const t = learnt(vllm({ content: ' Hello' }));
    const handed = [
      vllm({ content: '' }), // no token: carries nothing
      vllm({ content: ' x' }, { id: 'chatcmpl-other' }), // another answer: read only from the client's shapes
      vllm({ content: ' x' }, { usage: { prompt_tokens: 1, completion_tokens: 2 } }), // usage must be read
      vllm({ role: 'assistant', content: ' x' }), // another shape
      vllm({ content: 'x' }).replace('"finish_reason":null', '"finish_reason":"length"'),
      vllm({ content: 'XX' }).replace('"XX"', '"a"b"'), // a bare quote
      vllm({ content: 'XX' }).replace('"XX"', '"a\\"'), // the closing quote escaped
      vllm({ content: 'XX' }).replace('"XX"', '"a\\q"'), // not one of JSON's escapes
      vllm({ content: 'XX' }).replace('"XX"', '"\\u00g9"'), // not hex
      vllm({ content: 'XX' }).replace('"XX"', '"\\u00e"'), // a \u escape cut short by the closing quote
      vllm({ content: 'XX' }).replace('"XX"', '"a\tb"'), // a raw control character
      vllm({ content: ' x' }).slice(0, -1), // cut off
      '',
    ];
    for (const data of handed) expect(t.match(data), data).toBe(UNUSUAL);
  });

  it('learns nothing from chunks whose every field must be read, or that carry no text', () => {
    for (const data of [
      vllm({ content: ' x' }, { usage: { prompt_tokens: 1, completion_tokens: 1 } }),
      vllm({ content: ' x' }, { error: { message: 'KV cache is full' } }),
      vllm({ content: ' x' }, { object: 'error', message: 'boom' }),
      vllm({ role: 'assistant', content: '' }),
    ]) {
      const t = learnt(data);
      expect(t.match(vllm({ content: ' x' }, JSON.parse(data) as Record<string, unknown>)), data).toBe(UNUSUAL);
      expect(t.match(data)).toBe(UNUSUAL);
    }
  });

  it('finds the field when its key also occurs inside another key or twice in one object', () => {
    // JSON.parse keeps the last of two equal keys: the first "content" is not the field.
    const twice = '{"choices":[{"delta":{"content":"a","content":"b"}}]}';
    const t = learnt(twice);
    expect(t.match('{"choices":[{"delta":{"content":"a","content":"zz"}}]}')).toBe(CONTENT);
    expect(t.match('{"choices":[{"delta":{"content":"","content":"b"}}]}')).toBe(UNUSUAL);
    // `"content":"zz"` is in the text, after an escaped quote inside a key.
    const inside = '{"note\\"content":"zz","choices":[{"delta":{"content":"tok"}}]}';
    const u = learnt(inside);
    expect(u.match('{"note\\"content":"zz","choices":[{"delta":{"content":"other"}}]}')).toBe(CONTENT);
    expect(u.match('{"note\\"content":"yy","choices":[{"delta":{"content":"tok"}}]}')).toBe(UNUSUAL);
  });

  it('stops learning in an answer whose chunks differ elsewhere too, as a per-chunk fingerprint would make them', () => {
    const t = new ChunkTemplate(true);
    const at = (second: number, token: string) => vllm({ content: token }, { system_fingerprint: `fp-${second}` });
    const learn = (data: string) => t.learn(data, JSON.parse(data) as Chunk);
    learn(at(1, 'a'));
    expect(t.match(at(1, 'b'))).toBe(CONTENT);
    // Two templates that read nothing before the next chunk came: the third is not learnt.
    learn(at(2, 'c'));
    learn(at(3, 'd'));
    learn(at(4, 'e'));
    expect(t.match(at(4, 'f'))).toBe(UNUSUAL);
  });

  it('keeps reasoning apart from answer text, and reads completions from text', () => {
    const reasoning = learnt(vllm({ reasoning_content: 'Let me think' }));
    expect(reasoning.match(vllm({ reasoning_content: ' more' }))).toBe(REASONING);
    expect(reasoning.match(vllm({ content: ' more' }))).toBe(UNUSUAL);
    // Ollama's /v1 names it `reasoning`; read only when reasoning_content is absent or null.
    const ollama = learnt(vllm({ reasoning_content: null, reasoning: 'hmm' }));
    expect(ollama.match(vllm({ reasoning_content: null, reasoning: ' ok' }))).toBe(REASONING);
    const completion = (text: string) => JSON.stringify({ id: 'cmpl-1', object: 'text_completion', choices: [{ index: 0, text, logprobs: null, finish_reason: null }] });
    const completions = learnt(completion(' Once'), false);
    expect(completions.match(completion(' upon'))).toBe(CONTENT);
    // A chat template does not read completions' `text`.
    expect(learnt(completion(' Once'), true).match(completion(' upon'))).toBe(UNUSUAL);
  });

  it("reads another answer's chunks from the shape the first answer proved, whatever its id and created time", () => {
    const shapes = shapesFrom(vllm({ content: ' Hello' }));
    for (const over of [{ id: 'chatcmpl-9b41c0de5f' }, { id: 'x' }, { id: 'a"b\\c\u00e9' }, { created: 0 }, { created: 1733469999, id: 'chatcmpl-2' }]) {
      expect(laterAnswer(shapes, vllm({ content: ' tok' }, over)), JSON.stringify(over)).toBe(CONTENT);
    }
    // Once read from a shape, that answer's own template reads its next chunks.
    const t = new ChunkTemplate(true, shapes);
    expect(t.match(vllm({ content: 'a' }, { id: 'chatcmpl-3' }))).toBe(CONTENT);
    expect(t.match(vllm({ content: 'b' }, { id: 'chatcmpl-3' }))).toBe(CONTENT);
    // Only the id's string and the created integer may differ.
    const other = (text: string) => vllm({ content: ' tok' }).replace('"created":1733460000', text);
    const handed = [
      other('"created":01733460000'), // a leading zero: not JSON
      other('"created":1733460000.5'),
      other('"created":1e9'),
      other('"created":-1'),
      other('"created":"1733460000"'),
      vllm({ content: ' tok' }, { id: 7 }),
      vllm({ content: ' tok' }).replace('"chatcmpl-7f3a"', '"chatcmpl\\q"'), // not one of JSON's escapes
      vllm({ content: ' tok' }, { model: 'another-model' }),
      vllm({ content: ' tok' }, { usage: { prompt_tokens: 1, completion_tokens: 2 } }),
      vllm({ content: '' }, { id: 'chatcmpl-4' }),
      vllm({ role: 'assistant', content: ' tok' }, { id: 'chatcmpl-4' }),
    ];
    for (const data of handed) expect(laterAnswer(shapes, data), data).toBe(UNUSUAL);
    // A reasoning model's two shapes are both kept.
    learnt(vllm({ reasoning_content: 'Let me think' }), true, shapes);
    expect(laterAnswer(shapes, vllm({ reasoning_content: ' more' }, { id: 'chatcmpl-5' }))).toBe(REASONING);
    expect(laterAnswer(shapes, vllm({ content: ' tok' }, { id: 'chatcmpl-5' }))).toBe(CONTENT);
  });

  it('leaves a place open only once it is shown to be the top-level id or created time', () => {
    // The first "id" is a nested one: the top-level id is not where the search finds it, so no shape.
    const nested = (id: string, token: string) => JSON.stringify({ meta: { id: 'm' }, id, created: 1, choices: [{ delta: { content: token } }] });
    const shapes = new ChunkShapes();
    const t = learnt(nested('a', 'x'), true, shapes);
    expect(shapes.list).toEqual([]);
    expect(t.match(nested('a', 'y'))).toBe(CONTENT);
    expect(laterAnswer(shapes, nested('b', 'y'))).toBe(UNUSUAL);
    // The same text with the id first: proven, and read across answers.
    const first = (id: string, token: string) => JSON.stringify({ id, meta: { id: 'm' }, created: 1, choices: [{ delta: { content: token } }] });
    const proven = shapesFrom(first('a', 'x'));
    expect(laterAnswer(proven, first('b', 'y'))).toBe(CONTENT);
    expect(laterAnswer(proven, first('b', 'y').replace('{"id":"m"}', '{"id":"n"}'))).toBe(UNUSUAL);
  });

  it('never disagrees with JSON.parse, over chunks changed at random', () => {
    // Deterministic pseudo-random changes: tokens of tricky characters, and edits anywhere in the text.
    const rand = randomFrom(12345);
    const alphabet = ['a', ' ', '"', '\\', 'u', '0', 'e', 'F', 'n', '/', '\n', '\t', '\u0001', '{', '}', ':', ',', '[', ']', 'é', '\ud83d'];
    const base = vllm({ content: ' Hello' });
    const t = learnt(base);
    let read = 0;
    for (let i = 0; i < 20_000; i++) {
      let data: string;
      if (i % 2 === 0) {
        let token = '';
        for (let k = rand(8); k > 0; k--) token += alphabet[rand(alphabet.length)];
        data = base.replace('" Hello"', `"${token}"`);
      } else {
        const at = rand(base.length);
        data = rand(2) === 0 ? base.slice(0, at) + alphabet[rand(alphabet.length)] + base.slice(at) : base.slice(0, at) + base.slice(at + 1);
      }
      const matched = t.match(data);
      if (matched === UNUSUAL) continue;
      read++;
      expect(parsedVerdict(data), data).toBe(matched);
    }
    // The property means little if the template read nothing.
    expect(read).toBeGreaterThan(200);
  });

  it("never disagrees with JSON.parse when reading another answer's chunks from a shape, over chunks changed at random", () => {
    const alphabet = ['a', ' ', '"', '\\', 'u', '0', '1', '9', '.', 'e', '-', '/', '\n', '\u0001', '{', '}', ':', ',', 'é'];
    const shapes = shapesFrom(vllm({ content: ' Hello' }));
    const base = vllm({ content: ' tok' }, { id: 'chatcmpl-1234', created: 1733461234 });
    // Edits land in the id, the created time and the token most of the time, anywhere else now and then.
    const edit = randomEdits(randomFrom(777), base, alphabet, ['chatcmpl-1234', '1733461234', ' tok']);
    let read = 0;
    for (let i = 0; i < 20_000; i++) {
      const data = edit();
      const matched = laterAnswer(shapes, data);
      if (matched === UNUSUAL) continue;
      read++;
      expect(parsedVerdict(data), data).toBe(matched);
      expect((JSON.parse(data) as { model: string }).model).toBe('meta-llama/Llama-3.1-8B-Instruct');
    }
    expect(read).toBeGreaterThan(1000);
  });

  describe('chunks that carry no token', () => {
    /** What the reader takes from a usage (see takeUsage in openai.ts). */
    const taken = (u: Usage | null | undefined) => (u ? { prompt: u.prompt_tokens, completion: u.completion_tokens, reasoning: u.completion_tokens_details?.reasoning_tokens } : undefined);
    const role = (over: Record<string, unknown> = {}) => vllm({ role: 'assistant', content: '' }, over);
    const finish = (over: Record<string, unknown> = {}) => vllm({ content: '' }, over).replace('"finish_reason":null', '"finish_reason":"length"');
    const usage = (prompt: number, completion: number, over: Record<string, unknown> = {}) =>
      JSON.stringify({ id: 'chatcmpl-7f3a', object: 'chat.completion.chunk', created: 1733460000, model: 'm', choices: [], usage: { prompt_tokens: prompt, total_tokens: prompt + completion, completion_tokens: completion, ...over } });
    /** A later answer's verdict and usage for one chunk. */
    const later = (shapes: ChunkShapes, data: string) => {
      const t = new ChunkTemplate(true, shapes);
      const bits = t.match(data);
      return { bits, usage: taken(t.usage) };
    };

    /** Edits a later answer reads from the shapes are read as JSON.parse reads them: what they carry, no error, the same usage. How many were read. */
    function readAsJsonParse(shapes: ChunkShapes, edit: () => string): number {
      let read = 0;
      for (let i = 0; i < 20_000; i++) {
        const data = edit();
        const r = later(shapes, data);
        if (r.bits === UNUSUAL) continue;
        read++;
        const chunk = JSON.parse(data) as Chunk;
        expect(carriedBy(chunk, true), data).toBe(r.bits);
        expect(chunk.error ?? null, data).toBeNull();
        expect(r.usage, data).toEqual(taken(chunk.usage));
      }
      return read;
    }

    it("reads another answer's role, finish and usage chunks from the shapes the first answer's proved, the usage's counts from the text", () => {
      const shapes = new ChunkShapes();
      for (const data of [role(), finish(), usage(8, 16, { completion_tokens_details: { reasoning_tokens: 3 } })]) learnt(data, true, shapes);
      expect(later(shapes, role({ id: 'chatcmpl-b', created: 1733469999 }))).toEqual({ bits: 0, usage: undefined });
      expect(later(shapes, finish({ id: 'chatcmpl-c' }))).toEqual({ bits: 0, usage: undefined });
      const other = usage(1234, 0, { completion_tokens_details: { reasoning_tokens: 0 } }).replace('chatcmpl-7f3a', 'chatcmpl-d');
      expect(later(shapes, other)).toEqual({ bits: 0, usage: { prompt: 1234, completion: 0, reasoning: 0 } });
      expect(later(shapes, other).usage).toEqual(taken((JSON.parse(other) as Chunk).usage));
      // Anything else is JSON.parse's to read.
      for (const data of [
        role({ id: 'chatcmpl-e' }).replace('"content":""', '"content":"x"'), // a token: not this shape
        role({ model: 'another' }),
        usage(8, 16, { completion_tokens_details: { reasoning_tokens: 3 } }).replace('"prompt_tokens":8', '"prompt_tokens":8.5'),
        usage(8, 16, { completion_tokens_details: { reasoning_tokens: 3 } }).replace('"prompt_tokens":8', '"prompt_tokens":-8'),
        usage(8, 16, { completion_tokens_details: { reasoning_tokens: 3 } }).replace('"prompt_tokens":8', '"prompt_tokens":"8"'),
        usage(8, 16, { completion_tokens_details: { reasoning_tokens: 3 } }).replace('"prompt_tokens":8', '"prompt_tokens":08'),
        usage(8, 16), // no details: another shape
        role({ error: { message: 'KV cache is full' } }),
      ]) {
        expect(later(shapes, data).bits, data).toBe(UNUSUAL);
      }
    });

    it('reads no count from a place that is not its field: a key given twice, whichever value the text holds', () => {
      // JSON.parse keeps the last prompt_tokens; the first is where the search finds the key.
      for (const last of [9, ...Array.from({ length: 10 }, (_, k) => 987_654_321_000 + k)]) {
        const twice = (first: number) => usage(8, 16).replace(`"prompt_tokens":8`, `"prompt_tokens":${first},"prompt_tokens":${last}`);
        const shapes = new ChunkShapes();
        learnt(twice(8), true, shapes);
        const r = later(shapes, twice(5));
        if (r.bits !== UNUSUAL) expect(r.usage).toEqual(taken((JSON.parse(twice(5)) as Chunk).usage));
      }
    });

    it('stops learning them from a server whose tokenless chunks never repeat outside their ids, times and counts', () => {
      const shapes = new ChunkShapes();
      const parses = (data: string) => {
        const t = new ChunkTemplate(true, shapes);
        if (t.match(data) === UNUSUAL) t.learn(data, JSON.parse(data) as Chunk);
      };
      for (let i = 0; i < 8; i++) parses(role({ system_fingerprint: `fp-${i}` }));
      expect(shapes.list.filter((s) => s.tail === undefined)).toHaveLength(8);
      parses(role({ system_fingerprint: 'fp-8' }));
      expect(later(shapes, role({ system_fingerprint: 'fp-8' })).bits).toBe(UNUSUAL);
      // One read from restores the budget for one more.
      expect(later(shapes, role({ system_fingerprint: 'fp-7', id: 'chatcmpl-x' })).bits).toBe(0);
      parses(role({ system_fingerprint: 'fp-9' }));
      expect(later(shapes, role({ system_fingerprint: 'fp-9', id: 'chatcmpl-y' })).bits).toBe(0);
    });

    it("never disagrees with JSON.parse on another answer's usage chunk, over chunks changed at random", () => {
      const alphabet = ['0', '1', '9', '.', 'e', '-', '"', ',', ':', '{', '}', ' ', 'a', '\\'];
      const details = { completion_tokens_details: { reasoning_tokens: 3 } };
      const shapes = new ChunkShapes();
      learnt(usage(8, 16, details), true, shapes);
      const base = usage(120, 48, details).replace('chatcmpl-7f3a', 'chatcmpl-99').replace('1733460000', '1733461111');
      expect(readAsJsonParse(shapes, randomEdits(randomFrom(4242), base, alphabet))).toBeGreaterThan(1000);
    });

    it("never disagrees with JSON.parse on another whole answer, its text, finish reason and usage changed at random", () => {
      const alphabet = ['a', ' ', '"', '\\', 'u', '0', '7', 'n', '/', '\n', '\u0001', '{', '}', ':', ',', '[', ']', 'é', '\ud83d', 'null'];
      const whole = (id: string, content: string, finish: string, prompt: number) =>
        JSON.stringify({ id, object: 'chat.completion', created: 1733460000, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }], usage: { prompt_tokens: prompt, completion_tokens: 5, total_tokens: prompt + 5 } });
      const shapes = new ChunkShapes();
      learnt(whole('chatcmpl-1', 'Hello there', 'length', 8), true, shapes);
      const base = whole('chatcmpl-2', 'An answer with "quotes" and \\ escapes', 'stop', 31);
      expect(readAsJsonParse(shapes, randomEdits(randomFrom(2024), base, alphabet, ['An answer with', 'stop', '31', '36']))).toBeGreaterThan(1000);
    });
  });
});
