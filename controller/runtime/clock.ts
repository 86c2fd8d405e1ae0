// The controller's one source of time: the work queue, the poll helper, the
// launch observer and the machines' delays all take it, so a test drives
// minutes of retries and polls with XState's SimulatedClock in milliseconds.

/** The shape XState's SimulatedClock has, plus now(). */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Delays from this long are rounded up to a whole grain and share that grain's timer. */
const COALESCE_FROM_MS = 5_000;
const GRAIN_MS = 1_000;

/**
 * A clock whose long delays end on a whole second, all those due in one
 * second on one timer of `base`. Every Ready service is probed each
 * watchInterval, each on a timer of its own: 1,000 services woke the
 * controller 33 times a second, and each wake costs more than the probe it
 * starts. Run in one wake, their connections' answers come in together too
 * (issue 13: `npm run bench -- controller`, idle CPU). Nothing that waits 5 s
 * or more minds a second more.
 */
export function coalescing(base: Clock, fromMs = COALESCE_FROM_MS, grainMs = GRAIN_MS): Clock {
  interface Entry {
    readonly grain: number;
    readonly fn: () => void;
  }
  const grains = new Map<number, { handle: unknown; due: Set<Entry> }>();
  const fire = (grain: number) => {
    const due = grains.get(grain)?.due ?? [];
    grains.delete(grain);
    const failures: unknown[] = [];
    for (const entry of due) {
      try {
        entry.fn();
      } catch (e) {
        failures.push(e);
      }
    }
    // Thrown as its own timer would have thrown it, once the rest of the second has run.
    if (failures.length > 0) throw failures[0];
  };
  const isEntry = (h: unknown): h is Entry => typeof h === 'object' && h !== null && 'grain' in h && 'fn' in h;
  return {
    now: () => base.now(),
    setTimeout: (fn, ms) => {
      if (ms < fromMs) return base.setTimeout(fn, ms);
      const grain = Math.ceil((base.now() + ms) / grainMs);
      let slot = grains.get(grain);
      if (!slot) {
        slot = { handle: base.setTimeout(() => fire(grain), grain * grainMs - base.now()), due: new Set() };
        grains.set(grain, slot);
      }
      const entry: Entry = { grain, fn };
      slot.due.add(entry);
      return entry;
    },
    clearTimeout: (h) => {
      if (!isEntry(h)) return base.clearTimeout(h);
      const slot = grains.get(h.grain);
      if (!slot?.due.delete(h) || slot.due.size > 0) return;
      base.clearTimeout(slot.handle);
      grains.delete(h.grain);
    },
  };
}

export const systemClock: Clock = coalescing({
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Timers only pace observation: they never hold a process open on their own.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
});

/** Resolves after ms on the clock; at once when signal is (or becomes) aborted. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clock.clearTimeout(handle);
      resolve();
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
