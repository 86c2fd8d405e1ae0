// The engine's per-request SLO: good requests (goodput) and early stopping.
import { describe, expect, it } from 'vitest';
import type { MetricDecl } from '../../../api/metrics.js';
import { Load } from '../../../api/schemas.js';
import { Slo } from '../../../api/slo.js';
import type { BenchmarkClient, Operation, OperationResult } from '../../../clients/client.js';
import { runLoad } from '../../../clients/engine/engine.js';
import { FakeClock } from './fake-clock.js';

const METRICS: MetricDecl[] = [
  { name: 'ttft', kind: 'timing', unit: 'ms', help: 'time to first token', sinceSend: true },
  { name: 'itl', kind: 'timing', unit: 'ms', help: 'inter-token latency' },
];

/** Answers after 100 ms of fake time; every `slowEvery`th request has a 300 ms TTFT, every `failEvery`th fails. */
class TokenClient implements BenchmarkClient {
  readonly operations = ['generate'] as const;
  readonly mix = { operations: { generate: 1 } };
  constructor(
    private readonly clock: FakeClock,
    private readonly slowEvery = 0,
    private readonly failEvery = 0,
  ) {}
  async setup() {}
  async teardown() {}
  async execute(op: Operation): Promise<OperationResult> {
    await this.clock.sleep(100);
    if (this.failEvery && op.seq % this.failEvery === this.failEvery - 1) throw new Error('HTTP 500');
    const slow = this.slowEvery > 0 && op.seq % this.slowEvery === 0;
    return { metrics: { ttft: slow ? 300 : 50, itl: [5, 5, slow ? 40 : 5] } };
  }
}

function run(client: BenchmarkClient, clock: FakeClock, load: Record<string, unknown>, slo: Record<string, unknown>) {
  return clock.run(runLoad({ client, metrics: METRICS, load: Load.parse(load), slo: Slo.parse(slo), ranks: 1, rank: 0, clock }));
}

describe('runLoad with per-request SLO limits', () => {
  it('counts requests within every limit as good; a slow TTFT, a long gap or a failure is not', async () => {
    const clock = new FakeClock();
    const r = await run(new TokenClient(clock, 4, 10), clock, { mode: 'closed', workers: 1, maxRequests: 40 }, { ttft: '200ms', itl: '20ms' });
    const t = r.operations.generate;
    // seq 0, 4, 8, ... are slow (10 of 40); seq 9, 19, 29, 39 fail (none of them slow).
    expect(t.errors).toBe(4);
    expect(t.good).toBe(40 - 10 - 4);
    expect(r.totals.good).toBe(26);
    expect(r.stopReason).toBe('maxRequests');
    expect(r.verdicts).toBeUndefined();
  });

  it('judges TTFT from the intended send time, as it is recorded', async () => {
    // Open loop at 100/s with one slot: arrivals queue behind each 100 ms answer and are dropped, never delayed,
    // so here the shift is the send lag of a free slot, near zero; the 150 ms limit passes the 50 ms TTFTs.
    const clock = new FakeClock();
    const r = await run(new TokenClient(clock), clock, { mode: 'open', rate: 5, duration: '2s', concurrency: 1 }, { ttft: '150ms' });
    expect(r.totals.good).toBe(r.totals.requests);
    expect(r.totals.requests).toBeGreaterThan(5);
  });

  it('ends early once the p99 verdicts are settled, and says so', async () => {
    const clock = new FakeClock();
    const r = await run(new TokenClient(clock), clock, { mode: 'closed', workers: 8, duration: '10m' }, { ttft: '200ms', e2e: '1s', earlyStop: { minRequests: 100 } });
    expect(r.stopReason).toBe('settled');
    expect(r.verdicts).toEqual({ ttft: 'met', e2e: 'met' });
    // 459 clean requests settle p99 at 99% confidence; checked once a second at 80 requests/s.
    expect(r.totals.requests).toBeGreaterThanOrEqual(459);
    expect(r.totals.requests).toBeLessThan(80 * 8);
  });

  it('ends early on a missed verdict too', async () => {
    const clock = new FakeClock();
    const r = await run(new TokenClient(clock, 2), clock, { mode: 'closed', workers: 8, duration: '10m' }, { preset: 'llama3.1-8b-interactive', earlyStop: {} });
    // The preset limits TTFT to 500 ms and TPOT to 30 ms: every other request's 300 ms TTFT is within it; TPOT was not reported.
    expect(r.stopReason).toBe('settled');
    expect(r.verdicts).toEqual({ ttft: 'met', tpot: 'met' });
    const missed = new FakeClock();
    const m = await run(new TokenClient(missed, 2), missed, { mode: 'closed', workers: 8, duration: '10m' }, { ttft: '100ms', earlyStop: {} });
    expect(m.verdicts).toEqual({ ttft: 'missed' });
    expect(m.stopReason).toBe('settled');
    expect(m.totals.requests).toBeLessThan(400);
  });
});
