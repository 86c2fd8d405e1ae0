// What the LLM client asks of each protocol (OpenAI-compatible, Ollama,
// Triton): find the model, build each request once, and read an answer into
// the request's record as its body streams in. Errors carry a stable reason
// (failure.ts) so the reports count them by class.
import { excerpt } from '../http-common.js';
import { notJson } from './failure.js';
import type { PromptItem } from './prompts.js';
import type { LlmRecord } from './record.js';

export interface PreparedRequest {
  path: string;
  body: Buffer;
}

export interface Prepared {
  /** The model requests name: the given one, or the first the server lists. */
  model: string | undefined;
  /** The models the server listed, when it lists them: named in the reason of a request for one it lacks. */
  served?: string[];
}

/** A setup call's answer: its status and whole (small) body. */
export interface CallAnswer {
  status: number;
  text: string;
}

/** One setup call to the server; throws, with the transport's words, when no answer came. */
export type Call = (method: 'GET' | 'POST', path: string, body?: string) => Promise<CallAnswer>;

/** Reads one answer's body, piece by piece as it arrives. */
export interface AnswerReader {
  /** The next piece of the body's text; throws when it shows the request failed. */
  data(text: string): void;
  /** The body ended; throws when it did not hold a whole answer. */
  end(): void;
}

export interface LlmProtocol {
  /** Checks the server answers and has the model. */
  prepare(call: Call, origin: string): Promise<Prepared>;
  request(prompt: PromptItem, model: string | undefined): PreparedRequest;
  /** A reader of one 2xx answer (streamed or whole) into the record, stamping times with now(). */
  reader(contentType: string, record: LlmRecord, now: () => number): AnswerReader;
}

export const isEventStream = (contentType: string) => contentType.includes('text/event-stream');

/** A whole answer's body as a JSON object; anything else fails the request with a stable reason. */
export function parseAnswer(text: string, path: string): Record<string, unknown> {
  try {
    const doc = JSON.parse(text) as unknown;
    if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) return doc as Record<string, unknown>;
  } catch {
    /* named below */
  }
  throw notJson(`malformed answer: the body of POST ${path}`, text);
}

/** A reader that takes the whole body, then hands it to `done` with the time it ended. */
export function wholeAnswer(done: (text: string, at: number) => void, now: () => number): AnswerReader {
  let text = '';
  return {
    data: (piece) => void (text += piece),
    end: () => done(text, now()),
  };
}

/** The whole (small) body of a setup call as JSON, or an error naming what came instead. */
export function parseJsonBody(text: string, what: string): Record<string, unknown> {
  try {
    const doc = JSON.parse(text) as unknown;
    if (doc !== null && typeof doc === 'object') return doc as Record<string, unknown>;
  } catch {
    /* named below */
  }
  throw new Error(`${what} answered with something that is not a JSON object: ${excerpt(text)}`);
}

export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
