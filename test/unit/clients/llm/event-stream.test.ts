import { describe, expect, it } from 'vitest';
import { excerpt } from '../../../../clients/http-common.js';
import { EventStreamParser, type ServerEvent } from '../../../../clients/llm/event-stream.js';

/** The events one piece completes. */
const eventsOf = (p: EventStreamParser, piece: string): ServerEvent[] => {
  const out: ServerEvent[] = [];
  p.push(piece, (data, event, id) => out.push({ event, data, id }));
  return out;
};

/** Feeds every piece and returns all events, as a stream read would. */
const parse = (...pieces: string[]) => {
  const p = new EventStreamParser();
  return pieces.flatMap((x) => eventsOf(p, x));
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
    expect(eventsOf(p, ': ping\n\nevent: nothing\n\ndata: half')).toEqual([]);
    expect(p.pending).toBe('data: half');
    expect(eventsOf(p, '\n\n')).toEqual([{ event: 'message', data: 'half' }]);
  });
});

/** The format as the standard reads it, the whole text at once: what the parser must give however the text arrives. */
function reference(text: string): ServerEvent[] {
  const lines = text.split(/\r\n|\r|\n/);
  lines.pop(); // after the last line end: not a line yet
  const out: ServerEvent[] = [];
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  for (const line of lines) {
    if (line === '') {
      if (data.length > 0) out.push({ event: event || 'message', data: data.join('\n'), id });
      data = [];
      event = '';
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
  }
  return out;
}

describe('EventStreamParser against the standard', () => {
  it('gives the events the standard reads, over streams made at random and cut at random', () => {
    let seed = 99;
    // The generator's high bits: its low bits repeat with short periods, and would leave some streams never made.
    const rand = (n: number) => Math.floor(((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * n);
    const parts = ['data: ', 'data:', 'data', 'event: e', 'id: 4', 'id: 5', ': c', '{"a":1}', 'x y', ' ', ':', '\n', '\n', '\n\n', '\r', '\r\n', 'data: {"t":"z"}\n\n'];
    let events = 0;
    for (let i = 0; i < 5000; i++) {
      let text = '';
      for (let k = rand(14); k > 0; k--) text += parts[rand(parts.length)];
      const pieces: string[] = [];
      for (let from = 0; from < text.length; ) {
        const to = from + 1 + rand(text.length - from);
        pieces.push(text.slice(from, to));
        from = to;
      }
      const want = reference(text);
      events += want.length;
      expect(parse(...pieces), JSON.stringify(pieces)).toEqual(want);
    }
    expect(events).toBeGreaterThan(1000);
  });
});

describe('excerpt', () => {
  it('flattens whitespace and cuts long text', () => {
    expect(excerpt('a\n  b')).toBe('a b');
    expect(excerpt('x'.repeat(300))).toBe(`${'x'.repeat(200)}...`);
  });
});
