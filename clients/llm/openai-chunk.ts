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
//
// Answers differ from each other in their id and created time only: a
// template's text with those two values left open (a shape) is proven once
// and kept by the client, so another answer's first token is read from the
// shape, not by JSON.parse and a new proof. Putting another string literal
// where a string literal was, or another integer where an integer was,
// changes no key and no nesting, so the chunk still carries what it carried.

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

/** A template's text with an answer's id and created time left open. */
interface ChunkShape {
  /** The head's text around its holes: fixed[0], hole 0, fixed[1], ..., fixed[holes.length]. */
  fixed: string[];
  /** What each hole holds: a JSON string literal (the id) or an integer (the created time). */
  holes: Array<'string' | 'integer'>;
  tail: string;
  bits: number;
}

/** A reasoning model's answers take two shapes (reasoning, then answer text); a few more cost little to try. */
const SHAPES_KEPT = 4;

/** The shapes one client has proven, shared by the templates of all its answers. */
export class ChunkShapes {
  /** The most recently proven first. */
  readonly list: ChunkShape[] = [];

  add(shape: ChunkShape): void {
    const same = this.list.findIndex((s) => s.tail === shape.tail && s.bits === shape.bits && s.holes.join() === shape.holes.join() && s.fixed.join('\0') === shape.fixed.join('\0'));
    if (same !== -1) this.list.splice(same, 1);
    this.list.unshift(shape);
    if (this.list.length > SHAPES_KEPT) this.list.pop();
  }
}

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

  constructor(
    private readonly chat: boolean,
    /** The client's shapes: read from when this answer's own template does not fit, added to when it is learnt. */
    private readonly shapes?: ChunkShapes,
  ) {}

  /** What a chunk carries when it is the template (or a shape) around another non-empty string, else UNUSUAL. */
  match(data: string): number {
    const { head, tail } = this;
    if (head !== '' && data.slice(0, head.length) === head && tokenBetween(data, head.length, tail)) {
      this.used = true;
      return this.bits;
    }
    if (this.shapes) {
      for (const shape of this.shapes.list) {
        const at = headOf(data, shape);
        if (at === -1 || !tokenBetween(data, at, shape.tail)) continue;
        // This answer's template from now on: its next chunks are read by one comparison again.
        this.head = data.slice(0, at);
        this.tail = shape.tail;
        this.bits = shape.bits;
        this.used = true;
        return shape.bits;
      }
    }
    return UNUSUAL;
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
      const holes = this.shapes ? holesOf(head, chunk) : [];
      if (holes.length > 0 && this.proven(head, tail, slot, value, bits, holes)) {
        this.shapes!.add(shapeOf(head, tail, bits, holes));
      } else if (!this.proven(head, tail, slot, value, bits, [])) {
        continue;
      }
      this.head = head;
      this.tail = tail;
      this.bits = bits;
      return;
    }
  }

  /**
   * A key can occur inside another string or twice in one object (JSON.parse
   * keeps the last): putting other values at the places found, and reading
   * them back from their fields, shows each place is its field.
   */
  private proven(head: string, tail: string, slot: Slot, value: string, bits: number, holes: Hole[]): boolean {
    const probe = `${value}\u0000`;
    let text = '';
    let from = 0;
    for (const h of holes) {
      text += head.slice(from, h.start) + h.probeText;
      from = h.end;
    }
    text += head.slice(from) + JSON.stringify(probe) + tail;
    let chunk: Chunk & { id?: unknown; created?: unknown };
    try {
      chunk = JSON.parse(text) as Chunk;
    } catch {
      return false;
    }
    for (const h of holes) if (chunk[h.key] !== h.probe) return false;
    return fieldOf(chunk, slot) === probe && carriedBy(chunk, this.chat) === bits && !chunk.usage && chunk.error == null && chunk.object !== 'error';
  }
}

/** A place in a template's head that another answer fills with its own value: [start, end) of the value's text. */
interface Hole {
  key: 'id' | 'created';
  kind: 'string' | 'integer';
  start: number;
  end: number;
  /** Another value, as text and as JSON.parse reads it, to prove the place is the field. */
  probeText: string;
  probe: unknown;
}

/** Where the head holds the chunk's id (a string) and created time (an integer), each where its key first occurs; in text order. */
function holesOf(head: string, chunk: Chunk & { id?: unknown; created?: unknown }): Hole[] {
  const holes: Hole[] = [];
  if (typeof chunk.id === 'string') {
    const open = valueAfterKey(head, '"id"');
    const close = open !== -1 && head.charCodeAt(open) === QUOTE ? closingQuote(head, open + 1) : -1;
    const probe = `${chunk.id}\u0000`;
    if (close !== -1) holes.push({ key: 'id', kind: 'string', start: open, end: close + 1, probeText: JSON.stringify(probe), probe });
  }
  if (typeof chunk.created === 'number' && Number.isSafeInteger(chunk.created + 1) && chunk.created >= 0) {
    const start = valueAfterKey(head, '"created"');
    const end = start === -1 ? -1 : integerEnd(head, start);
    const probe = chunk.created + 1;
    if (end !== -1) holes.push({ key: 'created', kind: 'integer', start, end, probeText: String(probe), probe });
  }
  holes.sort((a, b) => a.start - b.start);
  return holes.length === 2 && holes[0].end > holes[1].start ? [] : holes;
}

function shapeOf(head: string, tail: string, bits: number, holes: Hole[]): ChunkShape {
  const fixed: string[] = [];
  let from = 0;
  for (const h of holes) {
    fixed.push(head.slice(from, h.start));
    from = h.end;
  }
  fixed.push(head.slice(from));
  return { fixed, holes: holes.map((h) => h.kind), tail, bits };
}

/** Where `data` has the shape's head with any string literal and integer in its holes: the index after it, or -1. */
function headOf(data: string, shape: ChunkShape): number {
  const { fixed, holes } = shape;
  let at = 0;
  for (let i = 0; ; i++) {
    const text = fixed[i];
    if (data.slice(at, at + text.length) !== text) return -1;
    at += text.length;
    if (i === holes.length) return at;
    if (holes[i] === 'integer') {
      at = integerEnd(data, at);
      if (at === -1) return -1;
    } else {
      if (data.charCodeAt(at) !== QUOTE) return -1;
      const close = closingQuote(data, at + 1);
      if (close === -1 || !isStringBody(data, at + 1, close)) return -1;
      at = close + 1;
    }
  }
}

/** data[at] opens a string literal of at least one character whose closing quote is followed by exactly `tail`. */
function tokenBetween(data: string, at: number, tail: string): boolean {
  const end = data.length - tail.length - 1;
  // At least one character between the quotes: an empty one changes what the chunk carries.
  // slice and === measured faster here than startsWith and endsWith (on Node 20).
  if (end <= at + 1 || data.slice(end + 1) !== tail) return false;
  return data.charCodeAt(at) === QUOTE && data.charCodeAt(end) === QUOTE && isStringBody(data, at + 1, end);
}

/** The index where the value after the first `key` followed by a colon starts, or -1. */
function valueAfterKey(s: string, key: string): number {
  for (let at = s.indexOf(key); at !== -1; at = s.indexOf(key, at + 1)) {
    const open = afterColon(s, at + key.length);
    if (open !== -1) return open;
  }
  return -1;
}

/**
 * The index after a JSON integer without sign (0, or digits not starting with
 * 0) at `i`, or -1. What follows the hole is the shape's fixed text (`,` or
 * `}`), so a fraction or exponent after the digits never matches.
 */
function integerEnd(s: string, i: number): number {
  const first = s.charCodeAt(i);
  if (first === 0x30) return i + 1;
  if (!(first > 0x30 && first <= 0x39)) return -1;
  i++;
  while (isDigit(s.charCodeAt(i))) i++;
  return i;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

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
