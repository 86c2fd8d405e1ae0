import { describe, expect, it } from 'vitest';
import { constantArrivals, createArrivals, gammaArrivals, poissonArrivals, sampleGamma, type Arrivals } from '../../../clients/engine/arrivals.js';
import { createRng } from '../../../clients/engine/rng.js';

function gaps(a: Arrivals, n: number): number[] {
  let prev = a.next();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = a.next();
    out.push(t - prev);
    prev = t;
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cv = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length) / m;
};

describe('arrivals', () => {
  it('constant: starts at 0 and spaces requests exactly 1000/rate ms apart', () => {
    const a = constantArrivals(250);
    expect([a.next(), a.next(), a.next()]).toEqual([0, 4, 8]);
    const g = gaps(constantArrivals(3), 1000);
    for (const x of g) expect(x).toBeCloseTo(1000 / 3, 6);
  });

  it('constant: does not drift over a long run', () => {
    const a = constantArrivals(1000);
    let t = 0;
    for (let i = 0; i <= 3_600_000; i++) t = a.next();
    expect(t).toBe(3_600_000);
  });

  it('poisson: mean gap is 1000/rate and CV is ~1', () => {
    const g = gaps(poissonArrivals(50, createRng(1)), 100_000);
    expect(mean(g)).toBeGreaterThan(20 * 0.98);
    expect(mean(g)).toBeLessThan(20 * 1.02);
    expect(cv(g)).toBeGreaterThan(0.97);
    expect(cv(g)).toBeLessThan(1.03);
    expect(Math.min(...g)).toBeGreaterThanOrEqual(0);
  });

  it.each([0.5, 1, 2, 4])('gamma: mean gap is 1000/rate and CV matches burstiness %s', (burstiness) => {
    const g = gaps(gammaArrivals(100, burstiness, createRng(3)), 200_000);
    expect(mean(g)).toBeGreaterThan(10 * 0.97);
    expect(mean(g)).toBeLessThan(10 * 1.03);
    expect(cv(g)).toBeGreaterThan(burstiness * 0.93);
    expect(cv(g)).toBeLessThan(burstiness * 1.07);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const run = (seed: number) => gaps(gammaArrivals(10, 2, createRng(seed)), 50);
    expect(run(9)).toEqual(run(9));
    expect(run(9)).not.toEqual(run(10));
  });

  it('sampleGamma has mean k for shape k (Marsaglia-Tsang, both branches)', () => {
    for (const k of [0.25, 3]) {
      const rng = createRng(11);
      const xs = Array.from({ length: 100_000 }, () => sampleGamma(k, rng));
      expect(mean(xs)).toBeGreaterThan(k * 0.97);
      expect(mean(xs)).toBeLessThan(k * 1.03);
    }
  });

  it('createArrivals picks the strategy named by load.arrival', () => {
    const c = createArrivals({ arrival: 'constant', burstiness: 1 }, 10, createRng(1));
    expect(gaps(c, 3)).toEqual([100, 100, 100]);
    const p = gaps(createArrivals({ arrival: 'poisson', burstiness: 1 }, 10, createRng(1)), 3);
    expect(new Set(p).size).toBe(3);
  });

  it('rejects a rate that cannot schedule anything', () => {
    expect(() => constantArrivals(0)).toThrow(/load.rate/);
    expect(() => gammaArrivals(1, 0, createRng(1))).toThrow(/burstiness/);
  });
});
