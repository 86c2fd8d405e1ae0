// The system clock's sleep: never early, and short waits end on time instead
// of on the next 1 ms timer tick (what keeps open-loop send lag under 1 ms).
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../clients/engine/clock.js';

/** How late each of `n` sleeps of `ms` ended, sorted. */
async function overshoots(ms: number, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await systemClock.sleep(ms);
    out.push(performance.now() - t - ms);
  }
  return out.sort((a, b) => a - b);
}

describe('systemClock.sleep', () => {
  it('never resolves before the time asked, short or long', async () => {
    expect((await overshoots(0.3, 50))[0]).toBeGreaterThanOrEqual(0);
    expect((await overshoots(7, 10))[0]).toBeGreaterThanOrEqual(0);
  });

  it('ends a sub-millisecond wait well before the next timer tick', async () => {
    // setTimeout alone rounds 0.2 ms up to 1 ms and more: a median 0.8 ms late.
    const late = await overshoots(0.2, 200);
    expect(late[100]).toBeLessThan(0.3);
  });

  it('resolves at once when aborted', async () => {
    const ctl = new AbortController();
    const t = performance.now();
    const slept = systemClock.sleep(10_000, ctl.signal);
    setTimeout(() => ctl.abort(), 5);
    await slept;
    expect(performance.now() - t).toBeLessThan(1000);
    await systemClock.sleep(10_000, ctl.signal);
    expect(performance.now() - t).toBeLessThan(1000);
  });
});
