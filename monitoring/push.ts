// Pushes benchmark metrics to a Pushgateway: the live counts every interval
// while a run goes on, and the finished run once. A gateway that is away is a
// warning and a retry, never a failed benchmark: the results are on disk first.
import { request } from 'undici';

export class PushError extends Error {
  override name = 'PushError';
}

/** The Pushgateway URL for one benchmark's group: `<base>/metrics/job/aifb/benchmark/<name>`. */
export function pushUrl(base: string, benchmark: string): string {
  return `${base.replace(/\/+$/, '')}/metrics/job/aifb/benchmark/${encodeURIComponent(benchmark)}`;
}

/** PUT replaces the whole group, so a new run's series replace the last one's; throws PushError with what went wrong. */
export async function pushText(base: string, benchmark: string, body: string, timeoutMs = 10_000): Promise<void> {
  const url = pushUrl(base, benchmark);
  let status: number;
  let text: string;
  try {
    const res = await request(url, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain; version=0.0.4' },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (e) {
    throw new PushError(`cannot reach the Pushgateway at ${base}: ${(e as Error).message}`);
  }
  if (status < 200 || status >= 300) throw new PushError(`the Pushgateway at ${base} answered HTTP ${status}: ${text.trim().slice(0, 300)}`);
}

/** Where to push now, or why there is nowhere yet (a MonitoringStack that is not Ready). */
export type PushTarget = { url: string } | { waiting: string };

export type PushOutcome =
  | { ok: true; url: string }
  | { ok: false; reason: 'PushgatewayUnreachable' | 'PushgatewayNotReady'; message: string };

export interface PushTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

interface Slot {
  timer?: unknown;
  /** Bumped by every start and stop: a push that answers after its slot moved on is ignored. */
  turn: number;
}

export interface PusherOptions {
  timers: PushTimers;
  /** Called when a benchmark's outcome changes (to rewrite its status condition). */
  onChange: (key: string) => void;
  /** First retry of a finished run's push; doubled up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** A finished run's push is given up after this many attempts (about an hour with the defaults). */
  maxAttempts?: number;
  push?: typeof pushText;
}

/** One slot per benchmark: either its live pushes or its finished run's push (with retries), never both. */
export class Pusher {
  private readonly slots = new Map<string, Slot>();
  private readonly outcomes = new Map<string, PushOutcome>();
  private readonly push: typeof pushText;

  constructor(private readonly opts: PusherOptions) {
    this.push = opts.push ?? pushText;
  }

  /** Pushes body() every intervalMs from now until the returned function is called; body() undefined skips a turn. */
  startLive(key: string, benchmark: string, target: () => PushTarget, intervalMs: number, body: () => string | undefined): () => void {
    const slot = this.take(key);
    const turn = slot.turn;
    const tick = async () => {
      const text = body();
      if (text !== undefined) await this.attempt(key, benchmark, target(), text, slot, turn);
      if (slot.turn === turn) slot.timer = this.opts.timers.setTimeout(() => void tick(), intervalMs);
    };
    slot.timer = this.opts.timers.setTimeout(() => void tick(), intervalMs);
    return () => {
      if (slot.turn === turn) this.release(key);
    };
  }

  /** Pushes a finished run until it lands, backing off between tries; a later start for key replaces it. */
  pushFinal(key: string, benchmark: string, target: () => PushTarget, body: string): void {
    const slot = this.take(key);
    const turn = slot.turn;
    const { retryMs = 1000, maxRetryMs = 60_000, maxAttempts = 70 } = this.opts;
    const tryOnce = async (n: number) => {
      const landed = await this.attempt(key, benchmark, target(), body, slot, turn);
      if (landed || slot.turn !== turn) return;
      if (n >= maxAttempts) return this.release(key);
      slot.timer = this.opts.timers.setTimeout(() => void tryOnce(n + 1), Math.min(maxRetryMs, retryMs * 2 ** (n - 1)));
    };
    void tryOnce(1);
  }

  outcome(key: string): PushOutcome | undefined {
    return this.outcomes.get(key);
  }

  /** The benchmark is gone: no more pushes, no more outcome. */
  forget(key: string): void {
    this.release(key);
    this.outcomes.delete(key);
  }

  stopAll(): void {
    for (const key of [...this.slots.keys()]) this.release(key);
  }

  private take(key: string): Slot {
    this.release(key);
    const slot: Slot = { turn: 0 };
    this.slots.set(key, slot);
    return slot;
  }

  private release(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    slot.turn++;
    if (slot.timer !== undefined) this.opts.timers.clearTimeout(slot.timer);
    this.slots.delete(key);
  }

  private async attempt(key: string, benchmark: string, target: PushTarget, body: string, slot: Slot, turn: number): Promise<boolean> {
    let outcome: PushOutcome;
    if ('waiting' in target) {
      outcome = { ok: false, reason: 'PushgatewayNotReady', message: target.waiting };
    } else {
      try {
        await this.push(target.url, benchmark, body);
        outcome = { ok: true, url: pushUrl(target.url, benchmark) };
      } catch (e) {
        outcome = { ok: false, reason: 'PushgatewayUnreachable', message: (e as Error).message };
      }
    }
    // Released (stopped, forgotten or replaced) while the push was out: its answer is old news.
    if (slot.turn !== turn) return outcome.ok;
    this.setOutcome(key, outcome);
    return outcome.ok;
  }

  private setOutcome(key: string, next: PushOutcome): void {
    const prev = this.outcomes.get(key);
    this.outcomes.set(key, next);
    if (JSON.stringify(prev) !== JSON.stringify(next)) this.opts.onChange(key);
  }
}
