// Long delays share one timer per second; short ones keep their own.
import { describe, expect, it } from 'vitest';
import { coalescing, type Clock } from '../../../controller/runtime/clock.js';

/** A base clock that only records its timers; fire(h) runs one, as its time would. */
function recordingClock(start = 1_000_000) {
  let now = start;
  let next = 1;
  const timers = new Map<number, { fn: () => void; at: number }>();
  const base: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      timers.set(next, { fn, at: now + ms });
      return next++;
    },
    clearTimeout: (h) => void timers.delete(h as number),
  };
  const fire = (h: number) => {
    const t = timers.get(h)!;
    timers.delete(h);
    now = t.at;
    t.fn();
  };
  return { base, timers, fire, advance: (ms: number) => (now += ms) };
}

describe('coalescing clock', () => {
  it('runs every long delay due in one second from one timer, at the end of that second', () => {
    const { base, timers, fire, advance } = recordingClock(1_000_200);
    const clock = coalescing(base);
    const ran: string[] = [];
    clock.setTimeout(() => ran.push('a'), 30_000);
    advance(300);
    clock.setTimeout(() => ran.push('b'), 30_000);
    advance(900);
    // Due at 1,031,400: the next second, on a timer of its own.
    clock.setTimeout(() => ran.push('c'), 30_000);
    expect([...timers.values()].map((t) => t.at)).toEqual([1_031_000, 1_032_000]);
    fire([...timers.keys()][0]);
    expect(ran).toEqual(['a', 'b']);
  });

  it('leaves short delays to the base clock as they are', () => {
    const { base, timers } = recordingClock(1_000_200);
    const clock = coalescing(base);
    clock.setTimeout(() => undefined, 500);
    clock.setTimeout(() => undefined, 4_999);
    expect([...timers.values()].map((t) => t.at)).toEqual([1_000_700, 1_005_199]);
  });

  it('cancels one delay of a second, and that second\'s timer with its last', () => {
    const { base, timers, fire } = recordingClock();
    const clock = coalescing(base);
    const ran: string[] = [];
    const a = clock.setTimeout(() => ran.push('a'), 10_000);
    const b = clock.setTimeout(() => ran.push('b'), 10_000);
    clock.clearTimeout(a);
    expect(timers.size).toBe(1);
    clock.clearTimeout(b);
    expect(timers.size).toBe(0);
    const c = clock.setTimeout(() => ran.push('c'), 10_000);
    clock.clearTimeout(c);
    clock.clearTimeout(c); // twice is harmless
    clock.setTimeout(() => ran.push('d'), 10_000);
    fire([...timers.keys()][0]);
    expect(ran).toEqual(['d']);
  });

  it('runs the rest of a second when one callback throws, then throws its error', () => {
    const { base, timers, fire } = recordingClock();
    const clock = coalescing(base);
    const ran: string[] = [];
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 10_000);
    clock.setTimeout(() => ran.push('after'), 10_000);
    expect(() => fire([...timers.keys()][0])).toThrow('boom');
    expect(ran).toEqual(['after']);
  });
});
