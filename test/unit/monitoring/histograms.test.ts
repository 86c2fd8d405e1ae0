import { describe, expect, it } from 'vitest';
import { BUCKET_BOUNDS_S, bucketsOf, latencyMsOf, timingOf } from '../../../monitoring/results/histograms.js';
import { histogramOf, newHistogram } from './rank-fixtures.js';

describe('histogram statistics', () => {
  it('counts each request under every bound it fits, cumulatively', () => {
    const b = bucketsOf(histogramOf([50, 100, 150, 1000, 20_000, 90_000_000]));
    const at = (s: number) => b.counts[BUCKET_BOUNDS_S.indexOf(s)];
    expect(b.le).toEqual(BUCKET_BOUNDS_S);
    expect(at(0.0001)).toBe(2);
    expect(at(0.00025)).toBe(3);
    expect(at(0.001)).toBe(4);
    expect(at(0.01)).toBe(4);
    expect(at(0.025)).toBe(5);
    expect(at(60)).toBe(5); // 90 s is past the last bound: only +Inf (count) holds it
    expect(b.count).toBe(6);
  });

  it('reports zeros, not MAX_SAFE_INTEGER or NaN, for an empty histogram', () => {
    const h = newHistogram();
    expect(latencyMsOf(h)).toEqual({ p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, min: 0, mean: 0, max: 0 });
    expect(timingOf(h)).toEqual({ avg_duration: 0, median_duration: 0, min_duration: 0, max_duration: 0, stddev: 0 });
    expect(bucketsOf(h)).toMatchObject({ count: 0, sumSeconds: 0 });
  });

  it('converts microseconds to seconds in timing and milliseconds in latencyMs', () => {
    const h = histogramOf([1000, 2000]);
    expect(timingOf(h)).toMatchObject({ min_duration: 0.001, max_duration: 0.002, median_duration: 0.001 });
    expect(latencyMsOf(h)).toMatchObject({ min: 1, max: 2, mean: 1.5 });
  });
});
