// The coordinated-omission benchmark end to end on tiny sizes: a half-second
// stall of the server shows in the open loop's p99 (timed from each request's
// intended send time) and not in the closed loop's, which only its few
// in-flight requests see.
import { describe, expect, it } from 'vitest';
import { measureCoordinatedOmission } from '../../bench/coordinated-omission.js';

describe('npm run bench -- coordinated-omission', () => {
  it("charges a server stall to the open loop's p99, not the closed loop's", async () => {
    const stallMs = 500;
    const { open, closed } = await measureCoordinatedOmission({ seconds: 3, stallMs, rate: 200, workers: 2 });
    expect(open.dropped).toBe(0);
    // 100 of 600 arrivals fall in the stall and wait 500..0 ms: the top 1% waited over 450 ms.
    expect(open.p99Ms).toBeGreaterThan(stallMs / 2);
    expect(open.p99Ms).toBeGreaterThan(10 * closed.p99Ms);
    // The closed loop did see the stall, in its few waiting requests.
    expect(closed.maxMs).toBeGreaterThan(stallMs * 0.9);
  }, 60_000);
});
