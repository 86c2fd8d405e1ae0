import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import {
  HIGHEST_TRACKABLE_US,
  RankHistogramSet,
  decodeHistogram,
  encodeHistogram,
  maxMs,
  meanMs,
  mergeHistograms,
  newHistogram,
  percentileMs,
  recordMs,
} from '../../../clients/engine/histogram.js';

describe('histogram', () => {
  it('counts every value in the slot the library itself would, bucket edges included', () => {
    const library = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_TRACKABLE_US, numberOfSignificantValueDigits: 3 });
    const plain = library() as unknown as { countsArrayIndex(v: number): number };
    const ours = newHistogram() as unknown as { countsArrayIndex(v: number): number };
    expect(ours.countsArrayIndex).not.toBe(plain.countsArrayIndex);
    const values = [0, 1, 2, 3];
    for (let p = 2; p <= 32; p++) values.push(2 ** p - 1, 2 ** p, 2 ** p + 1);
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(HIGHEST_TRACKABLE_US * ((i * 0.6180339887) % 1) ** 6));
    values.push(HIGHEST_TRACKABLE_US);
    for (const v of values) expect(ours.countsArrayIndex(v), `value ${v}`).toBe(plain.countsArrayIndex(v));
    // Recorded both ways, the histograms encode to the same bytes.
    const a = newHistogram();
    const b = library();
    for (const v of values) {
      if (v > HIGHEST_TRACKABLE_US) continue;
      a.recordValueWithCount(v, 2);
      b.recordValueWithCount(v, 2);
    }
    expect(encodeHistogram(a)).toBe(hdr.encodeIntoCompressedBase64(b));
  });

  it('gives percentiles in ms of values recorded in ms (1..1000 ms)', () => {
    const h = newHistogram();
    for (let ms = 1; ms <= 1000; ms++) recordMs(h, ms);
    expect(h.totalCount).toBe(1000);
    // 3 significant digits: within 0.1% of the exact order statistic.
    expect(percentileMs(h, 50)).toBeCloseTo(500, -0.3);
    expect(Math.abs(percentileMs(h, 50) - 500) / 500).toBeLessThan(0.001);
    expect(Math.abs(percentileMs(h, 99) - 990) / 990).toBeLessThan(0.001);
    expect(Math.abs(maxMs(h) - 1000) / 1000).toBeLessThan(0.001);
    expect(Math.abs(meanMs(h) - 500.5) / 500.5).toBeLessThan(0.001);
  });

  it('keeps sub-millisecond latencies to the microsecond', () => {
    const h = newHistogram();
    recordMs(h, 0.25);
    expect(maxMs(h)).toBe(0.25);
  });

  it('reports 0 for an empty histogram instead of garbage', () => {
    const h = newHistogram();
    expect([percentileMs(h, 99), maxMs(h), meanMs(h)]).toEqual([0, 0, 0]);
  });

  it('clamps values beyond an hour instead of throwing', () => {
    const h = newHistogram();
    recordMs(h, 10 * 3_600_000);
    recordMs(h, -5);
    expect(h.totalCount).toBe(2);
    expect(maxMs(h)).toBeLessThanOrEqual(3_600_000 * 1.001);
  });

  it('merging two histograms equals one histogram of both', () => {
    const a = newHistogram();
    const b = newHistogram();
    const both = newHistogram();
    for (let i = 0; i < 5000; i++) {
      const x = (i * 7919) % 3000;
      const y = 2000 + ((i * 104729) % 50_000) / 10;
      recordMs(a, x);
      recordMs(both, x);
      recordMs(b, y);
      recordMs(both, y);
    }
    const m = mergeHistograms([a, b]);
    expect(m.totalCount).toBe(both.totalCount);
    for (const p of [1, 25, 50, 90, 99, 99.9, 100]) expect(percentileMs(m, p)).toBe(percentileMs(both, p));
    expect(meanMs(m)).toBeCloseTo(meanMs(both), 6);
  });

  it('survives encode/decode losslessly (the rank file format)', () => {
    const h = newHistogram();
    for (let i = 1; i <= 777; i++) recordMs(h, i / 3);
    const d = decodeHistogram(encodeHistogram(h));
    expect(d.totalCount).toBe(777);
    expect(percentileMs(d, 99)).toBe(percentileMs(h, 99));
    // Decoding keeps buckets, so max comes back as its bucket's top: within 0.1%.
    expect(Math.abs(maxMs(d) - maxMs(h)) / maxMs(h)).toBeLessThan(0.001);
  });

  it('RankHistogramSet records latency per op and in "all", send lag, and declared metrics per op', () => {
    const set = new RankHistogramSet(['read', 'write'], [{ name: 'bytes', kind: 'count', unit: 'bytes', help: 'b' }]);
    set.record('read', 1);
    set.record('read', 2);
    set.record('write', 5);
    set.recordSendLag(3);
    set.metric('read', 'bytes')!.record(4096);
    expect(set.metric('read', 'nope')).toBeUndefined();
    expect(set.forOp('read').totalCount).toBe(2);
    expect(set.all.totalCount).toBe(3);
    const enc = set.encode();
    expect(Object.keys(enc.latency).sort()).toEqual(['all', 'read', 'write']);
    expect(decodeHistogram(enc.latency.write).totalCount).toBe(1);
    expect(decodeHistogram(enc.sendLag).totalCount).toBe(1);
    expect(Object.keys(enc.metrics)).toEqual(['read']);
    expect(Math.abs(decodeHistogram(enc.metrics.read.bytes).maxValue - 4096) / 4096).toBeLessThan(0.001);
  });

  it("records a request's list of values, equal neighbours at once, as it records them one by one", () => {
    const decl = { name: 'itl', kind: 'timing', unit: 'ms', help: 'gaps' } as const;
    const one = new RankHistogramSet(['chat'], [decl]).metric('chat', 'itl')!;
    const runs = new RankHistogramSet(['chat'], [decl]).metric('chat', 'itl')!;
    // A streamed answer whose tokens came in three reads: gaps of 0 within a read.
    const gaps = [4.2, 0, 0, 0, 7.5, 7.5, 0, 0, 0, 0, 12, 0, Number.NaN, 0.001];
    for (const g of gaps) one.record(g + 1.5);
    runs.recordAll(gaps, 1.5);
    expect(runs.count).toBe(13);
    expect(runs.count).toBe(one.count);
    expect(runs.sum).toBeCloseTo(one.sum, 9);
    expect(encodeHistogram(runs.histogram)).toBe(encodeHistogram(one.histogram));
    for (const p of [0, 10, 50, 90, 100]) expect(runs.histogram.getValueAtPercentile(p)).toBe(one.histogram.getValueAtPercentile(p));
  });
});
