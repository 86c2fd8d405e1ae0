// Sweeps driven through the real engine on simulated time: a server that
// serves up to a capacity, then queues (its latency grows with the offered rate).
import { describe, expect, it } from 'vitest';
import { Load } from '../../../api/schemas.js';
import { Slo } from '../../../api/slo.js';
import type { BenchmarkClient, OperationResult } from '../../../clients/client.js';
import { runLoad } from '../../../clients/engine/engine.js';
import { keptUp, pointLoad, runSweep } from '../../../clients/runner/sweep.js';
import { FakeClock } from './fake-clock.js';

/** One request at a time takes 10 ms: 100 req/s is all it can do, so past that arrivals hit the concurrency cap. */
class SerialServer implements BenchmarkClient {
  readonly operations = ['get'] as const;
  readonly mix = { operations: { get: 1 } };
  private busyUntil = 0;
  constructor(private readonly clock: FakeClock) {}
  async setup() {}
  async teardown() {}
  async execute(): Promise<OperationResult> {
    const start = Math.max(this.clock.now(), this.busyUntil);
    this.busyUntil = start + 10;
    await this.clock.sleep(this.busyUntil - this.clock.now());
    return {};
  }
}

function sweepOf(load: Record<string, unknown>, slo?: Record<string, unknown>) {
  const clock = new FakeClock();
  const client = new SerialServer(clock);
  const parsed = Load.parse(load);
  const ran: Load[] = [];
  const done = runSweep({
    load: parsed as Load & { sweep: NonNullable<Load['sweep']> },
    slo: slo ? Slo.parse(slo) : undefined,
    signal: new AbortController().signal,
    run: async (l) => {
      ran.push(l);
      return { results: await runLoad({ client, load: l, ranks: 1, rank: 0, clock }), peaks: {} };
    },
  });
  return clock.run(done).then((record) => ({ record, ran }));
}

describe('runSweep', () => {
  it('runs each listed rate as its own load, judging each point', async () => {
    const { record, ran } = await sweepOf({ mode: 'open', duration: '2s', concurrency: 4, sweep: { rates: [20, 50, 400] } }, { p99: '100ms' });
    expect(ran.map((l) => l.rate)).toEqual([20, 50, 400]);
    expect(ran.every((l) => l.sweep === undefined)).toBe(true);
    expect(record.points.map((p) => [p.dir, p.rate, p.sloPassed, p.keptUp])).toEqual([
      ['points/0', 20, true, true],
      ['points/1', 50, true, true],
      // 400 req/s at 100 req/s of capacity: most arrivals are dropped at the cap.
      ['points/2', 400, true, false],
    ]);
    expect(record.ended).toBe('every point ran');
  });

  it('stops at the first point that breaks the SLO', async () => {
    const { record } = await sweepOf({ mode: 'closed', duration: '1s', sweep: { concurrencies: [1, 2, 8, 16] } }, { p99: '25ms' });
    // 1 worker waits 10 ms, 2 wait 20 ms, 8 wait 80 ms: the third point breaks the 25 ms p99.
    expect(record.points.map((p) => [p.workers, p.sloPassed])).toEqual([
      [1, true],
      [2, true],
      [8, false],
    ]);
    expect(record.ended).toBe('the SLO broke at point 2 (8 workers)');
  });

  it('finds the knee: multiplies the rate until the server no longer keeps up', async () => {
    const { record } = await sweepOf({ mode: 'open', duration: '2s', concurrency: 4, sweep: { knee: { from: 25, factor: 2 } } });
    expect(record.points.map((p) => [p.rate, p.keptUp])).toEqual([
      [25, true],
      [50, true],
      [100, true],
      [200, false],
    ]);
    expect(record.ended).toBe('the server stopped keeping up at 200 req/s: the knee is the point before');
  });

  it('keeps the load of a point apart from the sweep, and judges keeping up by completions and drops', () => {
    const load = Load.parse({ mode: 'closed', workers: 3, duration: '1s', sweep: { concurrencies: [5] } });
    expect(pointLoad(load, { workers: 5 })).toMatchObject({ workers: 5, duration: 1000 });
    expect('sweep' in pointLoad(load, { workers: 5 })).toBe(false);
    const r = { measuredMs: 1000, totals: { requests: 95, dropped: 0 } } as Parameters<typeof keptUp>[0];
    expect(keptUp(r, 100)).toBe(true);
    expect(keptUp({ ...r, totals: { requests: 89, dropped: 0 } } as typeof r, 100)).toBe(false);
    expect(keptUp({ ...r, totals: { requests: 98, dropped: 2 } } as typeof r, 100)).toBe(false);
  });

  it('refuses a sweep that does not fit the loop', () => {
    expect(Load.safeParse({ mode: 'closed', duration: '1s', sweep: { rates: [1] } }).error?.issues[0]?.message).toMatch(/closed-loop sweep lists concurrencies/);
    expect(Load.safeParse({ mode: 'open', duration: '1s', sweep: { rates: [1], knee: { from: 1 } } }).error?.issues[0]?.message).toMatch(/set one of rates/);
    expect(Load.safeParse({ mode: 'open', duration: '1s', sweep: { knee: { from: 1 } } }).success).toBe(true);
  });
});
