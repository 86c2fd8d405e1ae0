import { describe, expect, it } from 'vitest';
import { excerpt } from '../../../../clients/http-common.js';
import { readCompletionStream } from '../../../../clients/llm/sse.js';

async function* pieces(...parts: string[]): AsyncIterable<string> {
  for (const p of parts) yield p;
}

const chat = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;

describe('readCompletionStream', () => {
  it('counts chunks with text, skipping role-only and empty chunks, across split pieces', async () => {
    const stream = [
      `data: ${JSON.stringify({ choices: [{ delta: { role: 'assistant', content: '' } }] })}\n\n`,
      chat('Hel'),
      chat('lo'),
      `data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: 'length' }] })}\n\n`,
      'data: [DONE]\n\n',
    ].join('');
    // Split at awkward places, including inside a JSON document and a CRLF-free boundary.
    const parts = [stream.slice(0, 7), stream.slice(7, 50), stream.slice(50, 51), stream.slice(51)];
    let texts = 0;
    const out = await readCompletionStream(pieces(...parts), 'chat', () => texts++);
    expect(out).toEqual({ tokens: 2, contentChunks: 2 });
    // Once per chunk with text: the first is the first token, the rest give the gaps.
    expect(texts).toBe(2);
  });

  it('prefers the usage count when the server sends one', async () => {
    const usage = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 7 } })}\n\n`;
    const out = await readCompletionStream(pieces(chat('a'), usage, 'data: [DONE]\n\n'), 'chat');
    expect(out).toEqual({ tokens: 7, contentChunks: 1, usageTokens: 7, promptTokens: 3 });
  });

  it('reads completions text, CRLF line ends and ignores comments', async () => {
    const c = (text: string) => `data: ${JSON.stringify({ choices: [{ text }] })}\r\n\r\n`;
    const out = await readCompletionStream(pieces(': keep-alive\r\n\r\n', c('x'), c('y'), c(''), 'data: [DONE]\r\n\r\n'), 'completions');
    expect(out.tokens).toBe(2);
  });

  it('fails on a stream cut before [DONE]', async () => {
    await expect(readCompletionStream(pieces(chat('a')), 'chat')).rejects.toThrow(/ended before "data: \[DONE\]"/);
  });

  it('fails with the server message on an error event', async () => {
    const err = `data: ${JSON.stringify({ object: 'error', message: 'KV cache is full', code: 500 })}\n\n`;
    await expect(readCompletionStream(pieces(chat('a'), err, 'data: [DONE]\n\n'), 'chat')).rejects.toThrow('server error in stream: KV cache is full');
  });

  it('fails on a data line that is not JSON', async () => {
    await expect(readCompletionStream(pieces('data: {oops\n\n'), 'chat')).rejects.toThrow(/not JSON: \{oops/);
  });
});

describe('excerpt', () => {
  it('flattens whitespace and cuts long text', () => {
    expect(excerpt('a\n  b')).toBe('a b');
    expect(excerpt('x'.repeat(300))).toBe(`${'x'.repeat(200)}...`);
  });
});
