// The one way the controller polls: a tick every interval on the injected
// clock, with one error policy. An ActorFailure thrown by a tick is a decision
// (the launch ended, the queue kept it too long) and ends the poll; any other
// error is a hiccup (the scheduler did not answer, a file was mid-write): it
// is reported and the tick runs again at the next interval, so observation
// never stops on a transient fault.
import { ActorFailure } from '../../machines/lifecycle.js';
import { sleep, type Clock } from './clock.js';

export interface PollOptions {
  clock: Clock;
  /** Milliseconds to the next tick; a function when the cadence changes (slower once Ready). */
  intervalMs: number | (() => number);
  /** Told of each transient failure and how many came in a row (log the first, for instance). */
  onError?: (error: unknown, inARow: number) => void;
}

export interface PollEveryOptions extends PollOptions {
  /** The first tick after one interval rather than at once (a watch right after a readiness check). */
  wait?: boolean;
  onFinal?: (failure: ActorFailure) => void;
}

const intervalOf = (o: PollOptions) => (typeof o.intervalMs === 'function' ? o.intervalMs() : o.intervalMs);

/**
 * Runs tick at once (after one interval with `wait`), then every interval, until it returns true, throws an
 * ActorFailure (handed to onFinal), or the returned cancel() is called.
 */
export function poll(tick: () => Promise<boolean | void>, opts: PollEveryOptions): () => void {
  let cancelled = false;
  let handle: unknown;
  let errors = 0;
  const run = async () => {
    if (cancelled) return;
    try {
      const done = await tick();
      errors = 0;
      if (done === true) return;
    } catch (e) {
      if (e instanceof ActorFailure) {
        if (!cancelled) opts.onFinal?.(e);
        return;
      }
      opts.onError?.(e, ++errors);
    }
    if (!cancelled) handle = opts.clock.setTimeout(() => void run(), intervalOf(opts));
  };
  handle = opts.clock.setTimeout(() => void run(), opts.wait ? intervalOf(opts) : 0);
  return () => {
    cancelled = true;
    opts.clock.clearTimeout(handle);
  };
}

export interface PollUntilOptions extends PollOptions {
  /** Gives up after this long with the error onTimeout makes. */
  timeoutMs?: number;
  onTimeout?: () => Error;
  /** Stops waiting (rejects) when aborted: the machine left the state. */
  signal?: AbortSignal;
  /** Names what is waited for, in the abort message. */
  what: string;
}

/**
 * Resolves with the first value tick returns that is not undefined. Same error
 * policy as poll: an ActorFailure rejects at once, any other error is retried.
 */
export async function pollUntil<T>(tick: () => Promise<T | undefined>, opts: PollUntilOptions): Promise<T> {
  const deadline = opts.timeoutMs === undefined ? Infinity : opts.clock.now() + opts.timeoutMs;
  let errors = 0;
  for (;;) {
    if (opts.signal?.aborted) throw new Error(`stopped waiting for ${opts.what}`);
    try {
      const value = await tick();
      errors = 0;
      if (value !== undefined) return value;
    } catch (e) {
      if (e instanceof ActorFailure) throw e;
      opts.onError?.(e, ++errors);
    }
    const now = opts.clock.now();
    if (now >= deadline) throw opts.onTimeout?.() ?? new Error(`gave up waiting for ${opts.what}`);
    await sleep(opts.clock, Math.min(intervalOf(opts), deadline - now), opts.signal);
  }
}
