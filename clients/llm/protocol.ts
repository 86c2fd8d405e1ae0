// What the LLM client asks of each protocol (OpenAI-compatible, Ollama,
// Triton): find the model, build each request once, and read an answer into
// the request's record. Errors carry a stable reason (failure.ts) so the
// reports count them by class.
import type { Dispatcher, Pool } from 'undici';
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

export interface LlmProtocol {
  /** Checks the server answers and has the model. */
  prepare(pool: Pool, headers: Record<string, string>, origin: string): Promise<Prepared>;
  request(prompt: PromptItem, model: string | undefined): PreparedRequest;
  /** Reads one answer (streamed or whole) into the record, stamping times with now(); throws when the request failed. */
  read(res: Dispatcher.ResponseData, record: LlmRecord, now: () => number): Promise<void>;
}

export const isEventStream = (contentType: string | string[] | undefined) =>
  (Array.isArray(contentType) ? contentType.join(',') : (contentType ?? '')).includes('text/event-stream');

/** A whole answer's body as a JSON object; anything else fails the request with a stable reason. */
export async function readAnswer(res: Dispatcher.ResponseData, path: string): Promise<Record<string, unknown>> {
  const text = await res.body.text();
  try {
    const doc = JSON.parse(text) as unknown;
    if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) return doc as Record<string, unknown>;
  } catch {
    /* named below */
  }
  throw notJson(`malformed answer: the body of POST ${path}`, text);
}

/** The whole (small) body of a setup call as JSON, or an error naming what came instead. */
export async function readJsonBody(res: Dispatcher.ResponseData, what: string): Promise<Record<string, unknown>> {
  const text = await res.body.text();
  try {
    const doc = JSON.parse(text) as unknown;
    if (doc !== null && typeof doc === 'object') return doc as Record<string, unknown>;
  } catch {
    /* named below */
  }
  throw new Error(`${what} answered with something that is not a JSON object: ${excerpt(text)}`);
}

export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
