import { describe, expect, it } from 'vitest';
import type { TimeSeriesRow } from '../../../api/runner-contract.js';
import { TimeSeries } from '../../../clients/engine/timeseries.js';

describe('TimeSeries', () => {
  it('emits one row per second, not per request, however many requests', () => {
    const rows: TimeSeriesRow[] = [];
    const ts = new TimeSeries((r) => rows.push(r), 0);
    // 100k requests over 10 s.
    for (let i = 0; i < 100_000; i++) {
      ts.record(i / 10, 1 + (i % 10), true);
      ts.count('bytes', 4096);
    }
    ts.finish(10_000);
    expect(rows).toHaveLength(10);
    expect(rows.map((r) => r.second)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const r of rows) {
      expect(r.requests).toBe(10_000);
      expect(r.counts.bytes).toBe(10_000 * 4096);
      expect(r.maxMs).toBeCloseTo(10, 1);
      expect(r.p50Ms).toBeGreaterThanOrEqual(5);
      expect(r.p50Ms).toBeLessThanOrEqual(6.01);
    }
  });

  it('resets each second: a slow second does not leak into the next', () => {
    const rows: TimeSeriesRow[] = [];
    const ts = new TimeSeries((r) => rows.push(r), 0);
    ts.record(100, 500, true);
    ts.record(1100, 2, true);
    ts.finish(1500);
    expect(rows[0].maxMs).toBe(500);
    expect(rows[1].maxMs).toBe(2);
  });

  it('writes quiet seconds as zero rows and counts errors without latency', () => {
    const rows: TimeSeriesRow[] = [];
    const ts = new TimeSeries((r) => rows.push(r), 0);
    ts.record(10, 5, false);
    ts.record(3500, 7, true);
    ts.finish(3600);
    expect(rows.map((r) => [r.second, r.requests, r.errors])).toEqual([
      [0, 1, 1],
      [1, 0, 0],
      [2, 0, 0],
      [3, 1, 0],
    ]);
    expect(rows[0].p99Ms).toBe(0);
  });

  it('flags seconds that start during warmup', () => {
    const rows: TimeSeriesRow[] = [];
    const ts = new TimeSeries((r) => rows.push(r), 1500);
    ts.advance(3000);
    expect(rows.map((r) => r.warmup)).toEqual([true, true, false]);
    expect(ts.lastRow()?.second).toBe(2);
  });
});
