import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed } from '../../../clients/engine/rng.js';

const take = (seed: number, n: number) => {
  const r = createRng(seed);
  return Array.from({ length: n }, () => r.next());
};

describe('createRng', () => {
  it('replays the same sequence for the same seed', () => {
    expect(take(42, 100)).toEqual(take(42, 100));
  });

  it('gives different sequences for neighbouring seeds (ranks)', () => {
    expect(take(1, 10)).not.toEqual(take(2, 10));
  });

  it('stays in [0, 1) and is roughly uniform', () => {
    const xs = take(7, 100_000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    const buckets = new Array(10).fill(0);
    for (const x of xs) buckets[Math.floor(x * 10)]++;
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });

  it('derives independent streams from one seed', () => {
    expect(deriveSeed(5, 0)).not.toBe(deriveSeed(5, 1));
    expect(deriveSeed(5, 0)).toBe(deriveSeed(5, 0));
    expect(take(deriveSeed(5, 0), 5)).not.toEqual(take(deriveSeed(5, 1), 5));
  });
});
