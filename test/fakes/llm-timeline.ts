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

/**
 * What goes wrong in an answer:
 * - `error`: the protocol's error event under HTTP 200, then the answer ends;
 * - `drop`: the connection closes, without the end of the answer;
 * - `stall`: nothing more is written and the answer never ends (the client's timeout must notice);
 * - `malformed`: a `data:` line that is not JSON, then the answer goes on as
 *   scripted (a client that skipped it would count a good answer);
 * - `status`: an HTTP error status with the server's error body instead of an
 *   answer; only for a stand-in that starts its answer through Player.begin.
 */
export type FaultKind = 'error' | 'drop' | 'stall' | 'malformed' | 'status';

export interface TimelineFault {
  kind: FaultKind;
  /** After this many chunks (0: before the first). `status` answers before any. */
  after?: number;
  /**
   * Only every N-th answer faults (the N-th, 2N-th, ... this server plays from
   * this timeline); the others play clean. Default 1: every answer.
   */
  every?: number;
  /** `status`: which one (default 500). */
  status?: number;
}

export interface Timeline {
  chunks: TimelineChunk[];
  /** Send a chunk without text first, as vLLM's role-only first delta: it is not a first token. */
  emptyFirst?: boolean;
  fault?: TimelineFault;
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
    // Timers count whole milliseconds of a cached loop time and can fire up to 1 ms early: wait again until the time has really come.
    const fire = () => {
      const left = start + at - performance.now();
      if (left > 0) return void (timer = setTimeout(fire, Math.ceil(left)));
      res.off('close', onClose);
      resolve(!res.destroyed);
    };
    let timer = setTimeout(fire, Math.max(0, start + at - performance.now()));
    res.once('close', onClose);
  });
}

export interface Player {
  /** Starts the answer (status line, headers, any opening event); called once, unless a `status` fault answers instead. */
  begin?(): void;
  /** Writes chunk i (its tokens, and the running total of tokens so far). */
  chunk(c: TimelineChunk, index: number, tokensSoFar: number): void;
  /** Writes the protocol's mid-stream error. */
  error(): void;
  /** Writes what stands for a line that is not JSON; by default a cut-off `data:` line. */
  malformed?(): void;
  /** Answers with this HTTP status and the server's own error body. */
  status?(code: number): void;
}

/** Answers played per fault, so `every` can spare the others; keyed by the fault so a copied timeline counts on. */
const played = new WeakMap<TimelineFault, number>();

/** The fault this answer plays, if any. */
function faultOf(t: Timeline): TimelineFault | undefined {
  const f = t.fault;
  if (!f) return undefined;
  const n = (played.get(f) ?? 0) + 1;
  played.set(f, n);
  return n % Math.max(1, f.every ?? 1) === 0 ? f : undefined;
}

/**
 * Plays the timeline from `start`: each chunk at its offset, and the fault if
 * this answer has one. Returns true when every chunk was written (the caller
 * ends the answer), false when the client left or a fault took over (drop and
 * stall never end it).
 */
export async function play(t: Timeline, start: number, res: ServerResponse, p: Player): Promise<boolean> {
  const fault = faultOf(t);
  if (fault?.kind === 'status') {
    if (!p.status) throw new Error('this stand-in starts its answer before playing the timeline, so it cannot answer a status fault');
    p.status(fault.status ?? 500);
    return false;
  }
  p.begin?.();
  const after = fault?.after ?? 0;
  let at = 0;
  let sofar = 0;
  for (let i = 0; i < t.chunks.length; i++) {
    if (fault && after === i) {
      if (fault.kind !== 'malformed') return stop(fault.kind, res, p);
      malformed(res, p);
    }
    const c = t.chunks[i];
    at += c.afterMs;
    if (!(await until(start, at, res))) return false;
    sofar += c.tokens;
    p.chunk(c, i, sofar);
  }
  if (fault && after >= t.chunks.length) {
    if (fault.kind !== 'malformed') return stop(fault.kind, res, p);
    malformed(res, p);
  }
  return true;
}

function malformed(res: ServerResponse, p: Player): void {
  if (p.malformed) p.malformed();
  else res.write('data: {"cut off in the middle of an object\n\n');
}

function stop(kind: 'error' | 'drop' | 'stall', res: ServerResponse, p: Player): false {
  if (kind === 'error') {
    p.error();
    res.end();
  } else if (kind === 'drop') {
    // Once what was written has left (destroy alone can discard it): a drop after N chunks delivers N chunks.
    res.socket?.destroySoon();
  }
  // A stall writes nothing more and never ends: the client's timeout must notice.
  return false;
}
