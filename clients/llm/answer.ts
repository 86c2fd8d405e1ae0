// Where an LLM answer's body goes as the wire client reads it: a 2xx body to
// its protocol's reader, piece by piece as it arrives (so a token's time is
// the time its bytes came), any other body kept for the failure's reason.
// The wire client's sinks must not throw: a reader's failure is held here and
// thrown once the answer has ended.
import { StringDecoder } from 'node:string_decoder';
import type { WireSink } from '../http/wire.js';
import type { AnswerReader, LlmProtocol } from './protocol.js';
import type { LlmRecord } from './record.js';

/** An error body's start, enough for the server's message. */
const ERROR_TEXT_MAX = 4096;

/**
 * A body's pieces as text. A piece whose last byte is ASCII (an SSE event's
 * blank line, a JSON body's brace) ends on a whole character and is decoded
 * alone; a StringDecoder, whose making allocates, is made only once a piece
 * ends inside a character, and then kept to the end of the body.
 */
class Utf8Pieces {
  private decoder: StringDecoder | undefined;

  write(chunk: Buffer, from: number, to: number): string {
    if (this.decoder) return this.decoder.write(chunk.subarray(from, to));
    if (to <= from) return '';
    if (chunk[to - 1] < 0x80) return chunk.toString('utf8', from, to);
    this.decoder = new StringDecoder('utf8');
    return this.decoder.write(chunk.subarray(from, to));
  }

  end(): string {
    return this.decoder?.end() ?? '';
  }
}

export class AnswerSink implements WireSink {
  status = 0;
  /** The body of a status that is not 2xx (its start). */
  errorText = '';
  private reader: AnswerReader | undefined;
  private failure: unknown;
  private failed = false;
  private readonly decoder = new Utf8Pieces();

  constructor(
    private readonly protocol: LlmProtocol,
    private readonly record: LlmRecord,
    private readonly now: () => number,
  ) {}

  head(status: number, contentType: string): void {
    this.status = status;
    if (status >= 200 && status < 300) this.guard(() => (this.reader = this.protocol.reader(contentType, this.record, this.now)));
  }

  data(chunk: Buffer, from: number, to: number): void {
    if (this.failed) return;
    const reader = this.reader;
    if (!reader) {
      if (this.errorText.length < ERROR_TEXT_MAX) this.errorText += this.decoder.write(chunk, from, to);
      return;
    }
    const text = this.decoder.write(chunk, from, to);
    if (text !== '') this.guard(() => reader.data(text));
  }

  /** The answer ended: the reader's verdict, or the failure it met on the way. */
  end(): void {
    if (this.failed) throw this.failure;
    const rest = this.decoder.end();
    if (!this.reader) return;
    if (rest !== '') this.reader.data(rest);
    this.reader.end();
  }

  private guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.failed = true;
      this.failure = e;
    }
  }
}

/** Keeps a setup call's whole body (up to 1 MiB: a model list, a repository index). */
export class TextSink implements WireSink {
  status = 0;
  text = '';
  private readonly decoder = new StringDecoder('utf8');

  head(status: number): void {
    this.status = status;
  }

  data(chunk: Buffer, from: number, to: number): void {
    if (this.text.length < 1 << 20) this.text += this.decoder.write(chunk.subarray(from, to));
  }
}
