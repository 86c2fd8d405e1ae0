import { describe, expect, it } from 'vitest';
import { excerpt } from '../../../../clients/http-common.js';
import { EventStreamParser } from '../../../../clients/llm/event-stream.js';

/** Feeds every piece and returns all events, as a stream read would. */
const parse = (...pieces: string[]) => {
  const p = new EventStreamParser();
  return pieces.flatMap((x) => p.push(x));
};

describe('EventStreamParser', () => {
  it('ends an event at a blank line, with LF, CRLF or CR line ends', () => {
    for (const nl of ['\n', '\r\n', '\r']) {
      expect(parse(`data: a${nl}${nl}data: b${nl}${nl}`).map((e) => e.data), JSON.stringify(nl)).toEqual(['a', 'b']);
    }
  });

  it('joins multi-line data with newlines and keeps event and id fields', () => {
    expect(parse('event: delta\nid: 7\ndata: {"a":\ndata:  1}\n\n')).toEqual([{ event: 'delta', id: '7', data: '{"a":\n 1}' }]);
    expect(parse('data\n\n')).toEqual([{ event: 'message', data: '' }]);
  });

  it('puts back together an event split anywhere across reads, a CRLF split between two reads included', () => {
    const stream = 'data: {"text": "hel"}\r\n\r\n: keep-alive\r\ndata: {"text": "lo"}\r\n\r\n';
    for (let cut = 1; cut < stream.length; cut++) {
      expect(parse(stream.slice(0, cut), stream.slice(cut)).map((e) => e.data), `cut at ${cut}`).toEqual(['{"text": "hel"}', '{"text": "lo"}']);
    }
  });

  it('skips comments and events without data, and does not dispatch an event until its blank line', () => {
    const p = new EventStreamParser();
    expect(p.push(': ping\n\nevent: nothing\n\ndata: half')).toEqual([]);
    expect(p.pending).toBe('data: half');
    expect(p.push('\n\n')).toEqual([{ event: 'message', data: 'half' }]);
  });
});

describe('excerpt', () => {
  it('flattens whitespace and cuts long text', () => {
    expect(excerpt('a\n  b')).toBe('a b');
    expect(excerpt('x'.repeat(300))).toBe(`${'x'.repeat(200)}...`);
  });
});
