// A virtual clock for engine tests: sleeps are timers in simulated time, and
// run() jumps from one timer to the next once everything else has settled.
import type { Clock } from '../../../clients/engine/clock.js';

interface Timer {
  at: number;
  seq: number;
  fire: () => void;
}

export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.t;
  }

  /** Moves time forward at once, as a blocking call would (no timers fire). */
  advance(ms: number): void {
    this.t += ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fire: () => resolve() };
      const onAbort = () => {
        this.timers = this.timers.filter((x) => x !== timer);
        resolve();
      };
      timer.fire = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  }

  /** Fires `fn` at virtual time `at`. */
  at(at: number, fn: () => void): void {
    void this.sleep(at - this.t).then(fn);
  }

  /** Drives virtual time until `p` settles; fails instead of hanging on a deadlock. */
  async run<T>(p: Promise<T>): Promise<T> {
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    let idleRounds = 0;
    while (!settled) {
      await new Promise((r) => setImmediate(r));
      if (settled) break;
      if (this.timers.length === 0) {
        if (++idleRounds > 1000) throw new Error('FakeClock: promise never settles and no timer is pending');
        continue;
      }
      idleRounds = 0;
      let next = this.timers[0];
      for (const x of this.timers) if (x.at < next.at || (x.at === next.at && x.seq < next.seq)) next = x;
      this.timers = this.timers.filter((x) => x !== next);
      if (next.at > this.t) this.t = next.at;
      next.fire();
    }
    return p;
  }
}
