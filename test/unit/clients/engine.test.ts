import { describe, expect, it } from 'vitest';
import { Load } from '../../../api/schemas.js';
import type { BenchmarkClient, Operation, OperationResult } from '../../../clients/client.js';
import { runLoad, rankLoad, type EngineProgress, type RunLoadOptions } from '../../../clients/engine/engine.js';
import { maxMs, percentileMs } from '../../../clients/engine/histogram.js';
import type { MetricDecl } from '../../../api/metrics.js';
import type { TimeSeriesRow } from '../../../api/runner-contract.js';
import { FakeClock } from './fake-clock.js';

/** An in-memory client whose latency is simulated time on the fake clock. */
class FakeClient implements BenchmarkClient {
  readonly operations = ['a', 'b'] as const;
  mix: BenchmarkClient['mix'] = { operations: { a: 3, b: 1 }, sizes: [{ bytes: 100, weight: 1 }, { bytes: 1000, weight: 1 }] };
  calls: Operation[] = [];
  inflight = 0;
  maxInflight = 0;
  constructor(
    private readonly clock: FakeClock,
    private readonly latency: (op: Operation) => number = () => 10,
    private readonly fail: (op: Operation) => string | undefined = () => undefined,
  ) {}
  async setup() {}
  async teardown() {}
  async execute(op: Operation): Promise<OperationResult> {
    this.calls.push(op);
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    try {
      await this.clock.sleep(this.latency(op));
      const reason = this.fail(op);
      if (reason) throw new Error(reason);
      return { metrics: { bytes: op.size ?? 0 } };
    } finally {
      this.inflight--;
    }
  }
}

const load = (input: Record<string, unknown>) => Load.parse(input);

async function run(clock: FakeClock, client: BenchmarkClient, l: Record<string, unknown>, extra: Partial<RunLoadOptions> = {}) {
  return clock.run(runLoad({ client, load: load(l), ranks: 1, rank: 0, clock, ...extra }));
}

describe('runLoad: closed loop', () => {
  it('keeps N workers busy until the duration ends', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock);
    const r = await run(clock, client, { mode: 'closed', workers: 4, duration: 1 });
    // Each worker sends at 0, 10, ..., 990 ms.
    expect(r.totals.requests).toBe(400);
    expect(r.stopReason).toBe('duration');
    expect(r.histograms.all.totalCount).toBe(400);
    expect(percentileMs(r.histograms.all, 50)).toBeCloseTo(10, 1);
    expect(client.maxInflight).toBe(4);
    expect(r.endMs).toBe(1000);
    expect(r.histograms.sendLag.totalCount).toBe(0);
  });

  it('excludes warmup requests from histograms and totals', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock);
    const rows: TimeSeriesRow[] = [];
    const r = await run(clock, client, { mode: 'closed', workers: 2, duration: 1, warmup: '500ms' }, { onRow: (x) => rows.push(x) });
    expect(client.calls).toHaveLength(300); // 50 warmup + 100 measured per worker
    expect(r.totals.requests).toBe(200);
    expect(r.histograms.all.totalCount).toBe(200);
    expect(r.measureStartMs).toBe(500);
    expect(r.measuredMs).toBe(1000);
    // The time series shows the whole run, warmup flagged.
    expect(rows.map((x) => x.warmup)).toEqual([true, false]);
    expect(rows.reduce((s, x) => s + x.requests, 0)).toBe(300);
  });

  it('stops at exactly maxRequests, split across ranks', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock);
    const r = await clock.run(runLoad({ client, load: load({ workers: 8, maxRequests: 101, warmup: '100ms' }), ranks: 2, rank: 0, clock }));
    expect(r.stopReason).toBe('maxRequests');
    expect(r.totals.requests).toBe(51);
    expect(rankLoad(load({ workers: 8, maxRequests: 101 }), 2, 1)).toMatchObject({ workers: 4, maxRequests: 50, seed: 2 });
  });

  it('counts errors by reason and keeps them out of the latency histograms', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, () => 10, (op) => (op.name === 'b' ? 'disk full' : undefined));
    const r = await run(clock, client, { workers: 1, maxRequests: 400 });
    const b = r.operations.b;
    expect(b.errors).toBe(b.requests);
    expect(b.errorsByReason).toEqual({ 'disk full': b.requests });
    expect(r.totals.errors).toBe(b.requests);
    expect(r.totals.requests).toBe(r.operations.a.requests + b.requests);
    expect(r.histograms.all.totalCount).toBe(r.totals.requests - r.totals.errors);
    expect(r.histograms.forOp('b').totalCount).toBe(0);
    // Mix weights 3:1 show through.
    expect(r.operations.a.requests / 400).toBeGreaterThan(0.65);
    expect(r.operations.a.requests / 400).toBeLessThan(0.85);
  });

  it('bounds distinct error reasons', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, () => 1, (op) => `error number ${op.seq}`);
    const r = await run(clock, client, { workers: 1, maxRequests: 100 });
    expect(Object.keys(r.totals.errorsByReason)).toHaveLength(20);
    expect(Object.values(r.totals.errorsByReason).reduce((a, b) => a + b)).toBe(100);
  });

  it('records a fallback under the operation the client says it did', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock);
    client.execute = async () => ({ metrics: { bytes: 1 }, as: 'write' });
    const r = await run(clock, client, { workers: 1, maxRequests: 5 });
    expect(r.operations.write.requests).toBe(5);
    expect(r.histograms.forOp('write').totalCount).toBe(5);
  });
});

describe('runLoad: open loop', () => {
  it('sends at the scheduled rate regardless of latency', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, () => 50);
    const r = await run(clock, client, { mode: 'open', rate: 100, duration: 1 });
    expect(r.totals.requests).toBe(100);
    expect(r.totals.dropped).toBe(0);
    expect(client.maxInflight).toBe(5);
    expect(percentileMs(r.histograms.all, 99)).toBeCloseTo(50, 1);
    expect(r.maxSendLagMs).toBe(0);
    expect(r.histograms.sendLag.totalCount).toBe(100);
    // What the generator check needs: the rate asked of this rank, and what it sent.
    expect(r.targetRate).toBe(100);
    expect(r.sent).toBe(100);
  });

  it('counts latency from the intended send time: queueing at a slow server shows up', async () => {
    const clock = new FakeClock();
    // A server that serves one request at a time, 20 ms each, offered 100 req/s.
    let busyUntil = 0;
    const client = new FakeClient(clock);
    client.execute = async () => {
      const startAt = Math.max(clock.now(), busyUntil);
      busyUntil = startAt + 20;
      await clock.sleep(busyUntil - clock.now());
      return {};
    };
    const r = await run(clock, client, { mode: 'open', rate: 100, duration: 1, concurrency: 1000 });
    expect(r.totals.requests).toBe(100);
    // Request i is intended at 10i and done at 20i + 20: the last waits 1010 ms.
    expect(Math.abs(maxMs(r.histograms.all) - 1010) / 1010).toBeLessThan(0.002);
    expect(percentileMs(r.histograms.all, 50)).toBeGreaterThan(400);
  });

  it('charges a stalled sender to latency and records the send lag', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, () => 1);
    const inner = client.execute.bind(client);
    client.execute = async (op) => {
      if (op.seq === 50) clock.advance(300); // blocks the event loop for 300 ms
      return inner(op);
    };
    const r = await run(clock, client, { mode: 'open', rate: 100, duration: 1 });
    expect(r.totals.requests).toBe(100);
    expect(r.maxSendLagMs).toBeCloseTo(290, 6);
    // Arrivals at 510..790 went out at 800: 29 late requests at 291..11 ms, plus the
    // stalled one. Measured from the actual send they would all read 1 ms.
    expect(maxMs(r.histograms.all)).toBeGreaterThan(290);
    expect(percentileMs(r.histograms.all, 75)).toBeGreaterThan(10);
    expect(percentileMs(r.histograms.all, 65)).toBeCloseTo(1, 1);
    expect(Math.abs(percentileMs(r.histograms.sendLag, 100) - 290) / 290).toBeLessThan(0.002);
  });

  it('drops arrivals past the concurrency cap without delaying the schedule', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, () => 100);
    const r = await run(clock, client, { mode: 'open', rate: 100, duration: 1, concurrency: 5 });
    expect(client.maxInflight).toBe(5);
    expect(r.totals.requests + r.totals.dropped).toBe(100);
    expect(r.totals.dropped).toBeGreaterThanOrEqual(40);
    expect(r.maxSendLagMs).toBe(0);
  });

  it('excludes warmup arrivals', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, () => 5);
    const r = await run(clock, client, { mode: 'open', rate: 100, duration: 1, warmup: '500ms' });
    expect(client.calls).toHaveLength(150);
    expect(r.totals.requests).toBe(100);
    expect(r.histograms.all.totalCount).toBe(100);
  });

  it('replays the same operations and sizes for the same seed', async () => {
    const seq = async (seed: number) => {
      const clock = new FakeClock();
      const client = new FakeClient(clock, () => 3);
      await run(clock, client, { mode: 'open', rate: 200, arrival: 'poisson', duration: 1, seed });
      return client.calls.map((c) => `${c.name}:${c.size}`);
    };
    const a = await seq(7);
    expect(a.length).toBeGreaterThan(100);
    expect(await seq(7)).toEqual(a);
    expect(await seq(8)).not.toEqual(a);
  });

  it('divides the rate across ranks', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, () => 1);
    const r = await clock.run(runLoad({ client, load: load({ mode: 'open', rate: 400, duration: 1 }), ranks: 4, rank: 3, clock }));
    expect(r.totals.requests).toBe(100);
  });
});

describe('runLoad: declared metrics', () => {
  const decls: MetricDecl[] = [
    { name: 'bytes', kind: 'count', unit: 'bytes', help: 'bytes' },
    { name: 'ttft', kind: 'timing', unit: 'ms', help: 'first token', sinceSend: true },
    { name: 'itl', kind: 'timing', unit: 'ms', help: 'gaps' },
    { name: 'recall', kind: 'value', unit: 'ratio', help: 'recall' },
  ];

  it('keeps each declared metric per operation with exact totals; undeclared ones are left out', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, () => 10);
    client.execute = async (op) => {
      await clock.sleep(10);
      return { metrics: { bytes: 100, ttft: 4, itl: [1, 2, 3], recall: 0.75, surprise: 42 } };
    };
    const r = await run(clock, client, { workers: 1, maxRequests: 10 }, { metrics: decls });
    const ops = Object.values(r.operations).filter((o) => o.requests > 0);
    const totals = (name: string) => ops.reduce((acc, o) => ({ count: acc.count + (o.metrics[name]?.count ?? 0), sum: acc.sum + (o.metrics[name]?.sum ?? 0) }), { count: 0, sum: 0 });
    expect(totals('bytes')).toEqual({ count: 10, sum: 1000 });
    expect(totals('itl')).toEqual({ count: 30, sum: 60 });
    expect(totals('recall').sum).toBeCloseTo(7.5, 9);
    expect(totals('surprise')).toEqual({ count: 0, sum: 0 });
    const enc = r.histograms.encode();
    const names = new Set(Object.values(enc.metrics).flatMap((byName) => Object.keys(byName)));
    expect([...names].sort()).toEqual(['bytes', 'itl', 'recall', 'ttft']);
    // Values keep 6 decimals: 0.75 is stored as 750000 millionths.
    const op = Object.keys(r.operations).find((k) => r.operations[k].requests > 0)!;
    expect(r.histograms.metric(op, 'recall')!.histogram.maxValue).toBe(750_000);
  });

  it('counts a sinceSend timing from the intended send time, as the latency, but not the gaps', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, () => 1);
    client.execute = async (op) => {
      if (op.seq === 50) clock.advance(300); // the sender stalls: later arrivals go out late
      await clock.sleep(1);
      return { metrics: { ttft: 0.5, itl: [0.5] } };
    };
    const r = await run(clock, client, { mode: 'open', rate: 100, duration: 1 }, { metrics: decls });
    const merged = (name: string) => Object.keys(r.operations).map((op) => r.histograms.metric(op, name)?.histogram).filter((h) => h !== undefined);
    const maxOf = (name: string) => Math.max(...merged(name).map((h) => h!.maxValue)) / 1000;
    // The late arrivals waited up to 290 ms before being sent: their first token did too.
    expect(maxOf('ttft')).toBeGreaterThan(290);
    expect(maxOf('itl')).toBeCloseTo(0.5, 3);
  });

  it('sums count metrics per second in the time series, warmup seconds included', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, () => 10);
    client.execute = async () => {
      await clock.sleep(10);
      return { metrics: { bytes: 2 } };
    };
    const rows: TimeSeriesRow[] = [];
    const r = await run(clock, client, { workers: 1, duration: 2, warmup: '1s' }, { metrics: decls, onRow: (row) => rows.push(row) });
    // A request sent at 990 ms ends at 1000 ms: it counts in the second it completed.
    expect(rows.slice(0, 3).map((x) => [x.warmup, x.counts.bytes])).toEqual([
      [true, 198],
      [false, 200],
      [false, 200],
    ]);
    const all = rows.reduce((sum, x) => sum + (x.counts.bytes ?? 0), 0);
    expect(all).toBe(600); // 3 s at 100 req/s, 2 bytes each
    expect(r.operations.a.metrics.bytes.sum + r.operations.b.metrics.bytes.sum).toBe(2 * r.totals.requests);
  });
});

describe('runLoad: stopping and progress', () => {
  it('stops on abort, drains in-flight requests and returns partial results', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, () => 10);
    const ctl = new AbortController();
    clock.at(305, () => ctl.abort());
    const r = await run(clock, client, { workers: 2, duration: 60 }, { signal: ctl.signal });
    expect(r.stopReason).toBe('signal');
    expect(r.totals.requests).toBe(62); // 31 sends each (0..300 ms), drained
    expect(r.endMs).toBe(310);
    expect(r.abandoned).toBe(0);
  });

  it('abandons a request that outlives the drain timeout', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, (op) => (op.seq === 3 ? 1e9 : 10));
    const r = await run(clock, client, { workers: 2, duration: 1 }, { drainTimeoutMs: 2000 });
    expect(r.abandoned).toBe(1);
    expect(r.endMs).toBe(3000);
    expect(r.stopReason).toBe('duration');
  });

  it('reports progress once per second with the last second rate', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, () => 10);
    const seen: EngineProgress[] = [];
    await run(clock, client, { workers: 1, duration: '3s', warmup: '1500ms' }, { onProgress: (p) => seen.push(p) });
    // 1.5 s warmup + 3 s measured; the first tick is still in warmup.
    expect(seen.map((p) => p.elapsedMs)).toEqual([1000, 2000, 3000, 4000]);
    expect(seen.map((p) => p.inWarmup)).toEqual([true, false, false, false]);
    expect(seen[0].requests).toBeGreaterThanOrEqual(99); // warmup ticks count warmup requests
    // A completion landing exactly on a tick may count in either second.
    for (const p of seen) {
      expect(p.rps).toBeGreaterThanOrEqual(99);
      expect(p.rps).toBeLessThanOrEqual(100);
      expect(p.p99Ms).toBeCloseTo(10, 1);
    }
    expect(seen[2].requests).toBeGreaterThanOrEqual(149); // measured since 1.5 s
    expect(seen[2].requests).toBeLessThanOrEqual(150);
  });

  it('carries the measured window so far in each progress line after the warmup, cumulative, for live metrics', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, () => 10, (op) => (op.seq % 10 === 0 ? 'boom' : undefined));
    const seen: EngineProgress[] = [];
    const r = await run(clock, client, { workers: 1, duration: '3s', warmup: '1500ms' }, { onProgress: (p) => seen.push(p), metrics: [{ name: 'bytes', kind: 'count', unit: 'bytes', help: 'bytes' }] });
    expect(seen[0].live).toBeUndefined();
    const lives = seen.slice(1).map((p) => p.live!);
    const total = (l: NonNullable<EngineProgress['live']>) => Object.values(l).reduce((n, o) => n + o.requests, 0);
    // Cumulative: each line holds at least what the one before held, and the last is near the run's totals.
    expect(lives.map(total)).toEqual([...lives.map(total)].sort((a, b) => a - b));
    expect(total(lives.at(-1)!)).toBeGreaterThan(0.6 * r.totals.requests);
    for (const [op, o] of Object.entries(lives.at(-1)!)) {
      // Latency is that of the answers, as in the reports: failures are counted apart.
      expect(o.errors).toBeGreaterThan(0);
      expect(o.latency.count, op).toBe(o.requests - o.errors);
      // 10 ms answers: nothing at or under 5 ms, everything by 25 ms (BUCKET_BOUNDS_S index 7; HDR's slot for
      // 10 ms reaches a little past it, and a bucket never claims a request that may have been slower).
      expect(o.latency.counts[5]).toBe(0);
      expect(o.latency.counts[7]).toBe(o.latency.count);
      expect(o.latency.sumSeconds).toBeCloseTo(o.latency.count * 0.01, 2);
      expect(o.metrics.bytes).toMatchObject({ kind: 'count', count: o.requests - o.errors });
    }
  });

  it('keeps the time series to one row per second over a long run', async () => {
    const clock = new FakeClock();
    const client = new FakeClient(clock, () => 0.5);
    let rows = 0;
    const r = await run(clock, client, { mode: 'open', rate: 1000, duration: 20 }, { onRow: () => rows++ });
    expect(r.totals.requests).toBe(20_000);
    expect(rows).toBe(20);
  });
});
