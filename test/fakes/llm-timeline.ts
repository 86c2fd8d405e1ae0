// For the LLM STAND-INS (fake vLLM, Ollama and Triton servers, used only by
// tests): a scripted answer timeline, played against the clock, so a test
// knows exactly what TTFT, ITL, TPOT and end-to-end time a client should see.
// Chunks are written at absolute offsets from the request's arrival (a late
// timer does not push every later chunk back).
import type { ServerResponse } from 'node:http';

export interface TimelineChunk {
  /** Milliseconds after the previous chunk (the first: after the request arrived). */
  afterMs: number;
  /** Tokens this chunk carries (reported through continuous usage where the protocol has it). */
  tokens: number;
  /** A reasoning chunk, not answer text. */
  reasoning?: boolean;
}

export interface Timeline {
  chunks: TimelineChunk[];
  /** Send a chunk without text first, as vLLM's role-only first delta: it is not a first token. */
  emptyFirst?: boolean;
  /** After this many chunks: an error event under HTTP 200, a dropped connection, or silence (a stall). */
  fault?: { after: number; kind: 'error' | 'drop' | 'stall' };
}

/** One token per chunk, ttftMs then tokenDelayMs apart: the stand-ins' plain default. */
export function simpleTimeline(tokens: number, ttftMs: number, tokenDelayMs: number): Timeline {
  return { chunks: Array.from({ length: tokens }, (_, i) => ({ afterMs: i === 0 ? ttftMs : tokenDelayMs, tokens: 1 })) };
}

/** What a client should measure for a timeline played without faults. */
export function expected(t: Timeline) {
  const at: number[] = [];
  let clock = 0;
  for (const c of t.chunks) at.push((clock += c.afterMs));
  const tokens = t.chunks.reduce((n, c) => n + c.tokens, 0);
  const firstContent = t.chunks.findIndex((c) => !c.reasoning);
  const itl: number[] = [];
  for (let i = 1; i < t.chunks.length; i++) for (let k = 0; k < t.chunks[i].tokens; k++) itl.push(t.chunks[i].afterMs / t.chunks[i].tokens);
  const e2e = at[at.length - 1];
  return { ttft: firstContent === -1 ? undefined : at[firstContent], itl, tpot: (e2e - at[0]) / (tokens - 1), tpotAll: e2e / tokens, e2e, outputTokens: tokens };
}

/** Resolves true at `at` ms after `start` (performance.now() clock), false when the client went away first. */
function until(start: number, at: number, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve(false);
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    }, Math.max(0, start + at - performance.now()));
    res.once('close', onClose);
  });
}

export interface Player {
  /** Writes chunk i (its tokens, and the running total of tokens so far). */
  chunk(c: TimelineChunk, index: number, tokensSoFar: number): void;
  /** Writes the protocol's mid-stream error. */
  error(): void;
}

/**
 * Plays the timeline from `start`: each chunk at its offset, then the fault if
 * any. Returns true when every chunk was written (the caller ends the answer),
 * false when the client left or a fault took over (drop and stall never end it).
 */
export async function play(t: Timeline, start: number, res: ServerResponse, p: Player): Promise<boolean> {
  let at = 0;
  let sofar = 0;
  for (let i = 0; i < t.chunks.length; i++) {
    if (t.fault && t.fault.after === i) return fault(t.fault.kind, res, p);
    const c = t.chunks[i];
    at += c.afterMs;
    if (!(await until(start, at, res))) return false;
    sofar += c.tokens;
    p.chunk(c, i, sofar);
  }
  if (t.fault && t.fault.after >= t.chunks.length) return fault(t.fault.kind, res, p);
  return true;
}

function fault(kind: 'error' | 'drop' | 'stall', res: ServerResponse, p: Player): false {
  if (kind === 'error') {
    p.error();
    res.end();
  } else if (kind === 'drop') {
    res.socket?.destroy();
  }
  // A stall writes nothing more and never ends: the client's timeout must notice.
  return false;
}
