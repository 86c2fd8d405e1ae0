// The open-loop accuracy benchmark end to end on tiny sizes: one rate, one
// second; the row is complete and consistent. No number is judged here.
import { describe, expect, it } from 'vitest';
import { measureOpenLoop } from '../../bench/open-loop.js';

describe('npm run bench -- open-loop', () => {
  it('offers a rate to the loopback server and reports the share sent, the send lag and the verdict', async () => {
    const [row] = await measureOpenLoop({ rates: [200], seconds: 1, concurrency: 16 });
    expect(row.rate).toBe(200);
    expect(row.achievedShare).toBeGreaterThan(0.5);
    expect(row.achievedShare).toBeLessThan(1.5);
    expect(row.lagP99Ms).toBeGreaterThanOrEqual(row.lagP50Ms);
    expect(row.keptUp).toBe(row.achievedShare >= 0.99 && row.lagP99Ms <= 1);
  }, 30_000);
});
