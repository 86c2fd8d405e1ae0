// The sink between the wire client and a protocol's reader: text decoded
// across reads, a reader's failure held until the answer ends, and the body
// of an error status kept for its reason.
import { describe, expect, it } from 'vitest';
import { AnswerSink } from '../../../../clients/llm/answer.js';
import { AnswerError } from '../../../../clients/llm/failure.js';
import { openaiProtocol } from '../../../../clients/llm/openai.js';
import type { LlmRecord } from '../../../../clients/llm/record.js';
import { LlmWorkload } from '../../../../clients/llm/schema.js';

const chat = openaiProtocol(LlmWorkload.parse({ type: 'llm' }), 'chat');
const record = (): LlmRecord => ({ sent: 0, chunks: [], done: 0 });
let t = 0;
const now = () => (t += 10);
/** Feeds `bytes` to the sink in reads cut at the given offsets, as TCP may cut them. */
function feed(sink: AnswerSink, bytes: Buffer, cuts: number[]): void {
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    sink.data(bytes, at, cut);
    at = cut;
  }
}

describe('AnswerSink', () => {
  it('puts a character split between two reads back together', () => {
    // What did not parse is kept as the failure's detail: it must be the text the server sent.
    const body = Buffer.from('data: {"content":"é\n\n');
    const split = body.indexOf(Buffer.from('é')) + 1; // between the two bytes of é
    const sink = new AnswerSink(chat, record(), now);
    sink.head(200, 'text/event-stream');
    feed(sink, body, [split]);
    let failure: unknown;
    try {
      sink.end();
    } catch (e) {
      failure = e;
    }
    expect(failure).toBeInstanceOf(AnswerError);
    expect((failure as AnswerError).detail).toBe('{"content":"é');
  });

  it('decodes a body cut anywhere, in two or three reads, to the text the server sent', () => {
    const text = '{"error":"é, 🙂 and ✓ — mixed"}';
    const body = Buffer.from(text);
    for (let a = 0; a <= body.length; a++) {
      for (let b = a; b <= body.length; b += 3) {
        const sink = new AnswerSink(chat, record(), now);
        sink.head(500, 'application/json');
        feed(sink, body, [a, b]);
        sink.end();
        expect(sink.errorText, `cut at ${a} and ${b}`).toBe(text);
      }
    }
  });

  it('holds a reader\'s failure until the end and reads nothing after it', () => {
    const body = Buffer.from('data: {oops\n\ndata: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: [DONE]\n\n');
    const r = record();
    const sink = new AnswerSink(chat, r, now);
    sink.head(200, 'text/event-stream');
    expect(() => feed(sink, body, [14])).not.toThrow();
    expect(() => sink.end()).toThrow("malformed stream: an event's data is not JSON (cut off or broken)");
    expect(r.chunks).toEqual([]);
  });

  it('keeps the body of a status that is not 2xx for the reason, and reads none of it as an answer', () => {
    const r = record();
    const sink = new AnswerSink(chat, r, now);
    sink.head(503, 'application/json');
    feed(sink, Buffer.from('{"error":{"message":"queue full ü"}}'), [5, 33]);
    sink.end();
    expect(sink.errorText).toBe('{"error":{"message":"queue full ü"}}');
    expect(r.done).toBe(0);
  });
});
