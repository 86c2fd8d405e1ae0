import { describe, expect, it } from 'vitest';
import { EarlyStop } from '../../../api/slo.js';
import { binomialCdf, EarlyStopper, verdictOf } from '../../../clients/engine/early-stop.js';

/** P(X <= k) by the textbook sum with exact binomial coefficients, for small n. */
function naiveCdf(k: number, n: number, q: number): number {
  let sum = 0;
  let coef = 1;
  for (let i = 0; i <= k; i++) {
    sum += coef * q ** i * (1 - q) ** (n - i);
    coef = (coef * (n - i)) / (i + 1);
  }
  return sum;
}

describe('binomialCdf', () => {
  it('matches the textbook sum and known values', () => {
    expect(binomialCdf(5, 10, 0.5)).toBeCloseTo(638 / 1024, 12);
    for (const [k, n, q] of [[0, 20, 0.1], [3, 20, 0.1], [7, 30, 0.25], [29, 30, 0.9]]) expect(binomialCdf(k, n, q)).toBeCloseTo(naiveCdf(k, n, q), 12);
    expect(binomialCdf(0, 1000, 0.01)).toBeCloseTo(0.99 ** 1000, 15);
  });

  it('stays finite and monotone for a million requests', () => {
    const a = binomialCdf(9_900, 1_000_000, 0.01);
    const b = binomialCdf(10_100, 1_000_000, 0.01);
    expect(a).toBeGreaterThan(0);
    expect(a).toBeLessThan(0.5);
    expect(b).toBeGreaterThan(0.5);
    expect(b).toBeLessThanOrEqual(1);
  });

  it('handles the edges', () => {
    expect(binomialCdf(-1, 10, 0.5)).toBe(0);
    expect(binomialCdf(10, 10, 0.5)).toBe(1);
    expect(binomialCdf(0, 10, 0)).toBe(1);
  });
});

describe('verdictOf (p99 at 99% confidence)', () => {
  it('is met only once enough requests are all within the limit', () => {
    // 0.99^n <= 0.01 first holds at n = 459.
    expect(verdictOf(0, 458, 99, 0.99)).toBe('open');
    expect(verdictOf(0, 459, 99, 0.99)).toBe('met');
  });

  it('is missed when too many requests broke the limit, and open in between', () => {
    expect(verdictOf(10, 100, 99, 0.99)).toBe('missed');
    expect(verdictOf(1, 100, 99, 0.99)).toBe('open');
    expect(verdictOf(5, 2000, 99, 0.99)).toBe('met');
  });
});

describe('EarlyStopper', () => {
  const options = EarlyStop.parse({ confidence: 0.99, minRequests: 100 });

  it('settles once every limit is met or missed, counting failures as over every limit', () => {
    const s = new EarlyStopper(['ttft', 'tpot'], 99, options);
    for (let i = 0; i < 500; i++) s.record((name) => name === 'tpot' && i % 5 === 0);
    expect(s.verdicts()).toEqual({ ttft: 'met', tpot: 'missed' });
    expect(s.settled()).toBe(true);
    const f = new EarlyStopper(['ttft'], 99, options);
    for (let i = 0; i < 500; i++) f.record(i % 10 === 0 ? 'failed' : () => false);
    expect(f.verdicts()).toEqual({ ttft: 'missed' });
  });

  it('waits for minRequests, and never settles an ITL limit (judged over gaps, not requests)', () => {
    const s = new EarlyStopper(['ttft'], 99, { confidence: 0.99, minRequests: 1000 });
    for (let i = 0; i < 600; i++) s.record(() => false);
    expect(s.verdicts()).toEqual({ ttft: 'met' });
    expect(s.settled()).toBe(false);
    const itl = new EarlyStopper(['ttft', 'itl'], 99, options);
    for (let i = 0; i < 5000; i++) itl.record(() => false);
    expect(itl.settled()).toBe(false);
  });
});
