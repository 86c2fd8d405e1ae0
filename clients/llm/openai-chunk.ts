// Reads most chunks of an OpenAI stream without JSON.parse. A server streams
// one answer as chunks that differ only in the token text: vLLM's are
// `{"id":…,"object":"chat.completion.chunk",…,"choices":[{"index":0,"delta":{"content":"TOKEN"},…}]}`
// with the same id, model and created time each time. JSON.parse builds every
// object, key and string of each, 18 times for an answer of 16 tokens: in the
// streamed closed loop that was 45% of the client's busy time (issue 13).
//
// So a chunk JSON.parse has read becomes a template: the text before the
// token's string literal and the text after it. A later chunk that is the
// same text around another valid, non-empty string literal is valid JSON of
// the same shape, and carries what the template's chunk carried. That takes a
// comparison of the surrounding text and a check of the literal. Anything
// else (the role-only first chunk, usage, an error, the last chunk with its
// finish_reason) goes to JSON.parse, so every verdict is JSON.parse's.

/** choices[0] carries answer text: delta.content (chat), text (completions). */
export const CONTENT = 1;
/** choices[0].delta carries reasoning text: reasoning_content, else reasoning. */
export const REASONING = 2;
/** Not read from the template: read this chunk with JSON.parse. */
export const UNUSUAL = -1;

export interface Usage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  completion_tokens_details?: { reasoning_tokens?: unknown } | null;
}

export interface Chunk {
  choices?: Array<{ text?: unknown; delta?: { content?: unknown; reasoning_content?: unknown; reasoning?: unknown } }>;
  usage?: Usage | null;
  error?: unknown;
  object?: unknown;
  message?: unknown;
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** What choices[0] of a parsed chunk carries (CONTENT | REASONING): what a template's match repeats. */
export function carriedBy(chunk: Chunk, chat: boolean): number {
  const choice = chunk.choices?.[0];
  const content = chat ? choice?.delta?.content : choice?.text;
  const reasoning = choice?.delta?.reasoning_content ?? choice?.delta?.reasoning;
  return (nonEmpty(content) ? CONTENT : 0) | (nonEmpty(reasoning) ? REASONING : 0);
}

/** Where choices[0] keeps the text a chunk carries, by field name. */
type Slot = 'content' | 'text' | 'reasoning_content' | 'reasoning';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class ChunkTemplate {
  /** The template's text before its slot's string literal, and after it. */
  private head = '';
  private tail = '';
  private bits = 0;
  /** The template read a chunk since it was learnt. */
  private used = false;
  /**
   * Templates replaced before they read a chunk. A server whose every chunk
   * differs elsewhere too (a per-chunk id or time) would make each learning
   * a cost with no return: after two, the answer is left to JSON.parse.
   */
  private wasted = 0;

  constructor(private readonly chat: boolean) {}

  /** What a chunk carries when it is the template around another non-empty string, else UNUSUAL. */
  match(data: string): number {
    const { head, tail } = this;
    if (head === '') return UNUSUAL;
    const end = data.length - tail.length - 1;
    // At least one character between the quotes: an empty one changes what the chunk carries.
    // slice and === measured faster here than startsWith and endsWith (on Node 20).
    if (end <= head.length + 1 || data.slice(0, head.length) !== head || data.slice(end + 1) !== tail) return UNUSUAL;
    if (data.charCodeAt(head.length) !== QUOTE || data.charCodeAt(end) !== QUOTE || !isStringBody(data, head.length + 1, end)) return UNUSUAL;
    this.used = true;
    return this.bits;
  }

  /**
   * Makes `data`, which JSON.parse read as `chunk`, the template, when its text
   * is in a string literal that can be found in `data` and shown to be that
   * field. A chunk with usage or an error is never one: those must be read.
   */
  learn(data: string, chunk: Chunk): void {
    if (this.head !== '' && !this.used) this.wasted++;
    this.head = '';
    this.used = false;
    if (this.wasted >= 2) return;
    if (chunk === null || typeof chunk !== 'object' || chunk.usage || chunk.error != null || chunk.object === 'error') return;
    const bits = carriedBy(chunk, this.chat);
    const slot = bits === 0 ? undefined : slotOf(chunk, this.chat);
    if (slot === undefined) return;
    const value = String(fieldOf(chunk, slot));
    const key = `"${slot}"`;
    for (let at = data.indexOf(key); at !== -1; at = data.indexOf(key, at + 1)) {
      const open = afterColon(data, at + key.length);
      if (open === -1 || data.charCodeAt(open) !== QUOTE) continue;
      const close = closingQuote(data, open + 1);
      if (close === -1) continue;
      const head = data.slice(0, open);
      const tail = data.slice(close + 1);
      if (this.proven(head, tail, slot, value, bits)) {
        this.head = head;
        this.tail = tail;
        this.bits = bits;
        return;
      }
    }
  }

  /**
   * A key can occur inside another string or twice in one object (JSON.parse
   * keeps the last): putting another value at the place found, and reading
   * it back from the field, shows the place is the field.
   */
  private proven(head: string, tail: string, slot: Slot, value: string, bits: number): boolean {
    const probe = `${value}\u0000`;
    let chunk: Chunk;
    try {
      chunk = JSON.parse(head + JSON.stringify(probe) + tail) as Chunk;
    } catch {
      return false;
    }
    return fieldOf(chunk, slot) === probe && carriedBy(chunk, this.chat) === bits && !chunk.usage && chunk.error == null && chunk.object !== 'error';
  }
}

/** The field whose text makes the chunk carry what it carries: the one a token's text goes in. */
function slotOf(chunk: Chunk, chat: boolean): Slot | undefined {
  const choice = chunk.choices?.[0];
  const delta = choice?.delta;
  if (chat ? nonEmpty(delta?.content) : nonEmpty(choice?.text)) return chat ? 'content' : 'text';
  if (nonEmpty(delta?.reasoning_content)) return 'reasoning_content';
  if (delta?.reasoning_content == null && nonEmpty(delta?.reasoning)) return 'reasoning';
  return undefined;
}

function fieldOf(chunk: Chunk, slot: Slot): unknown {
  const choice = chunk.choices?.[0];
  return slot === 'text' ? choice?.text : choice?.delta?.[slot];
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** The index after `: ` that follows a key, or -1. */
function afterColon(s: string, i: number): number {
  while (isSpace(s.charCodeAt(i))) i++;
  if (s.charCodeAt(i) !== 0x3a) return -1;
  i++;
  while (isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** The index of the quote closing a string literal whose text starts at `i`, or -1. */
function closingQuote(s: string, i: number): number {
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE) return i;
    if (c === BACKSLASH) i++;
  }
  return -1;
}

/** s[from, to) is the inside of a JSON string literal: no bare quote or control character, only JSON's escapes. */
function isStringBody(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE || c < 0x20) return false;
    if (c !== BACKSLASH) continue;
    const e = s.charCodeAt(++i);
    if (e === 0x75) {
      if (i + 4 >= to) return false;
      for (let k = i + 1; k <= i + 4; k++) if (!isHex(s.charCodeAt(k))) return false;
      i += 4;
    } else if (!(e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) || i >= to) return false;
  }
  return true;
}

const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
