// Exact neighbours, recall@k and the Wilson interval against cases worked by hand.
import { describe, expect, it } from 'vitest';
import { normalQuantile, wilsonInterval } from '../../../../api/metrics.js';
import { normalize, scoreFor } from '../../../../clients/vector/distance.js';
import { bruteForce, TopList } from '../../../../clients/vector/ground-truth.js';
import { recallAt } from '../../../../clients/vector/recall.js';

// Five points and one query, in 2-D: each metric's order worked out by hand below.
const base = Float32Array.from([0, 0, 1, 0, 0, 2, 3, 3, -1, -1]);
const query = Float32Array.from([0.9, 0.1]);
const top = (metric: 'l2' | 'ip' | 'cosine', k: number) => {
  const b = Float32Array.from(base);
  const q = Float32Array.from(query);
  if (metric === 'cosine') {
    normalize(b, 2);
    normalize(q, 2);
  }
  return bruteForce(q, 0, [{ vectors: b, rows: 5 }], 2, scoreFor(metric), k);
};

describe('brute-force ground truth', () => {
  it('orders by squared L2: 0.02, 0.82, 4.42, 4.82, 12.82', () => {
    const t = top('l2', 3);
    expect(t.ids).toEqual([1, 0, 2]);
    expect(t.scores.map((s) => +s.toFixed(4))).toEqual([0.02, 0.82, 4.42]);
    expect(t.complete).toBe(false);
    expect(top('l2', 5).complete).toBe(true);
  });

  it('orders by inner product, largest first: 3.0, 0.9, 0.2, 0, -1', () => {
    const t = top('ip', 5);
    expect(t.ids).toEqual([3, 1, 2, 0, 4]);
    expect(t.scores.map((s) => +s.toFixed(4))).toEqual([-3, -0.9, -0.2, 0, 1]);
  });

  it('orders by cosine: 0.994 (1,0), 0.781 (3,3), 0.110 (0,2), 0 (the zero vector), -0.781', () => {
    const t = top('cosine', 5);
    expect(t.ids).toEqual([1, 3, 2, 0, 4]);
    expect(t.scores.map((s) => +(-s).toFixed(3))).toEqual([0.994, 0.781, 0.11, 0, -0.781]);
  });

  it('keeps only the candidates a filter accepts, and says when it holds them all', () => {
    const t = bruteForce(query, 0, [{ vectors: base, rows: 5 }], 2, scoreFor('l2'), 3, (id) => id % 2 === 0);
    expect(t.ids).toEqual([0, 2, 4]);
    expect(t.complete).toBe(true);
  });
});

describe('recallAt', () => {
  const truth = top('l2', 5); // [1, 0, 2, 4, 3]
  const scoreOf = (id: number) => (id >= 0 && id < 5 ? scoreFor('l2')(query, 0, base, id * 2, 2) : undefined);

  it('is the share of the k nearest found, each id once, padding ignored', () => {
    expect(recallAt(2, truth, [1, 0], scoreOf)).toBe(1);
    expect(recallAt(2, truth, [0, 1], scoreOf)).toBe(1);
    expect(recallAt(2, truth, [1, 2], scoreOf)).toBe(0.5);
    expect(recallAt(2, truth, [1, 1], scoreOf)).toBe(0.5);
    expect(recallAt(2, truth, [-1, 1], scoreOf)).toBe(0.5);
    expect(recallAt(3, truth, [4, 3], scoreOf)).toBe(0);
    // Only the first k of a longer answer count.
    expect(recallAt(1, truth, [2, 1], scoreOf)).toBe(0);
  });

  it('counts a tie with the k-th neighbour as found', () => {
    const pts = Float32Array.from([1, 0, -1, 0, 5, 5]); // ids 0 and 1 both at distance 1 from the origin
    const t = bruteForce(new Float32Array(2), 0, [{ vectors: pts, rows: 3 }], 2, scoreFor('l2'), 3);
    const s = (id: number) => scoreFor('l2')(new Float32Array(2), 0, pts, id * 2, 2);
    expect(recallAt(1, t, [1], s)).toBe(1);
    expect(recallAt(1, t, [2], s)).toBe(0);
  });

  it('with slack, also counts the next neighbours (writes overlapped the search)', () => {
    expect(recallAt(2, truth, [1, 2], scoreOf, 1)).toBe(1);
    expect(recallAt(2, truth, [1, 4], scoreOf, 1)).toBe(0.5);
  });

  it('is out of the candidates there are when fewer than k exist, and undefined with none', () => {
    const two = new TopList(5);
    two.offer(1, scoreOf(1)!);
    two.offer(0, scoreOf(0)!);
    expect(recallAt(5, two, [1, 0, 2, 3, 4], scoreOf)).toBe(1);
    expect(recallAt(5, two, [1, 2, 3, 4], scoreOf)).toBe(0.5);
    expect(recallAt(5, new TopList(5), [1], scoreOf)).toBeUndefined();
  });
});

describe('wilsonInterval', () => {
  it('matches published 95% Wilson intervals', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.005)).toBeCloseTo(-2.575829, 6);
    const at = (p: number, n: number) => Object.values(wilsonInterval(p, n)).map((x) => +x.toFixed(4));
    expect(at(0.5, 100)).toEqual([0.4038, 0.5962]);
    expect(at(0.8, 10)).toEqual([0.4902, 0.9433]);
    // Every scored query perfect: the interval still admits misses the sample did not see.
    expect(at(1, 200)).toEqual([0.9812, 1]);
    expect(at(0, 50)).toEqual([0, 0.0713]); // z²/(n+z²) = 3.8415/53.8415
  });

  it('narrows as more queries are scored, and says nothing without any', () => {
    const w = (n: number) => wilsonInterval(0.9, n).high - wilsonInterval(0.9, n).low;
    expect(w(1000)).toBeLessThan(w(100));
    expect(w(100)).toBeLessThan(w(10));
    expect(wilsonInterval(0.9, 0)).toEqual({ low: 0, high: 1 });
  });
});
