// The engine's only source of time: injected so tests drive a fake clock and
// a run of minutes is checked in milliseconds of real time.

export interface Clock {
  /** Monotonic milliseconds (fractions allowed); only differences matter. */
  now(): number;
  /**
   * Resolves after `ms` (at once for ms <= 0, after letting other work run).
   * Resolves early, never rejects, when `signal` aborts.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      // setImmediate for 0: setTimeout would add at least 1 ms to every yield.
      const handle = ms > 0 ? setTimeout(done, ms) : undefined;
      const immediate = ms > 0 ? undefined : setImmediate(done);
      const onAbort = () => {
        if (handle) clearTimeout(handle);
        if (immediate) clearImmediate(immediate);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};
