// A server-sent events parser as the WHATWG HTML standard defines the format:
// lines end in CRLF, LF or CR; `:` starts a comment; `data:` lines of one event
// join with "\n"; a blank line ends the event. Text arrives in arbitrary pieces,
// so an event (or a line, or a CRLF) split across reads is put back together.

export interface ServerEvent {
  /** The `event:` field; "message" when the server gave none. */
  event: string;
  data: string;
  /** The last `id:` field so far, if any. */
  id: string | undefined;
}

/**
 * Takes each event as the parser completes it. Called rather than handed a
 * list: an answer of 16 tokens made 18 event objects and an array a read,
 * for readers that look at the data alone (issue 13).
 */
export type OnEvent = (data: string, event: string, id: string | undefined) => void;

const LF = 0x0a;
const COLON = 0x3a;
const SPACE = 0x20;

/** buf[start, end) is a line `data: …`: the field `data`, a colon and one space. */
const isDataField = (buf: string, start: number, end: number): boolean =>
  end - start >= 6 &&
  buf.charCodeAt(start) === 0x64 &&
  buf.charCodeAt(start + 1) === 0x61 &&
  buf.charCodeAt(start + 2) === 0x74 &&
  buf.charCodeAt(start + 3) === 0x61 &&
  buf.charCodeAt(start + 4) === COLON &&
  buf.charCodeAt(start + 5) === SPACE;

export class EventStreamParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  /** A CR ended the last piece: an LF starting the next one belongs to it. */
  private pendingCr = false;

  /**
   * Feeds a piece of the stream; each event it completes goes to onEvent, in
   * order. An onEvent that throws ends the stream: the parser is not to be
   * fed again.
   */
  push(piece: string, onEvent: OnEvent): void {
    let text = piece;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    const buf = this.buffer + text;
    let start = 0;
    // The next CR and LF at or after `start`, -1 when there is none: each is
    // searched for again only once passed, as a body without CRs would
    // otherwise be searched to its end for one at every line.
    let lf = buf.indexOf('\n');
    let cr = buf.indexOf('\r');
    for (;;) {
      if (lf !== -1 && lf < start) lf = buf.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = buf.indexOf('\r', start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr === buf.length - 1) {
          // A CR at the end of a piece: the line ends, and an LF may follow in the next piece.
          next = cr + 1;
          this.pendingCr = true;
        } else {
          next = buf.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
        }
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
        // The usual whole event, `data: …` and a blank line, both ended by LF: read without the line-by-line work.
        if (buf.charCodeAt(next) === LF && this.data.length === 0 && this.event === '' && isDataField(buf, start, end)) {
          const data = buf.slice(start + 6, end);
          start = next + 1;
          onEvent(data, 'message', this.id);
          continue;
        }
      } else {
        break;
      }
      const line = start;
      start = next;
      if (this.line(buf, line, end)) this.dispatch(onEvent);
    }
    this.buffer = start === 0 ? buf : buf.slice(start);
  }

  /** Text received after the last line end: what a stream that stopped mid-line left. */
  get pending(): string {
    return this.buffer;
  }

  /** Reads the line buf[start, end); true when it is the blank line that ends an event. */
  private line(buf: string, start: number, end: number): boolean {
    if (start === end) return true;
    if (buf.charCodeAt(start) === COLON) return false;
    let colon = buf.indexOf(':', start);
    if (colon > end) colon = -1;
    const field = buf.slice(start, colon === -1 ? end : colon);
    let from = colon === -1 ? end : colon + 1;
    if (buf.charCodeAt(from) === SPACE && from < end) from++;
    const value = buf.slice(from, end);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    // `retry` and unknown fields carry nothing a benchmark uses.
    return false;
  }

  /** A blank line: the event so far, if it has data, goes to onEvent. */
  private dispatch(onEvent: OnEvent): void {
    const lines = this.data;
    const event = this.event || 'message';
    this.data = [];
    this.event = '';
    if (lines.length > 0) onEvent(lines.length === 1 ? lines[0] : lines.join('\n'), event, this.id);
  }
}
