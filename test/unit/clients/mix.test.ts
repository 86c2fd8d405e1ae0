import { describe, expect, it } from 'vitest';
import { operationMix, parseSizeWeights, sizeDistribution, weightedChoice } from '../../../clients/engine/mix.js';
import { createRng } from '../../../clients/engine/rng.js';

function counts<T>(draw: () => T, n: number): Map<T, number> {
  const m = new Map<T, number>();
  for (let i = 0; i < n; i++) {
    const v = draw();
    m.set(v, (m.get(v) ?? 0) + 1);
  }
  return m;
}

describe('weighted mix', () => {
  it('draws operations in proportion to normalised weights', () => {
    const mix = operationMix({ write: 0.4, read: 0.4, stat: 0.1, delete: 0.1 }, createRng(1));
    const c = counts(() => mix.draw(), 100_000);
    expect(c.get('write')! / 100_000).toBeCloseTo(0.4, 1);
    expect(c.get('read')! / 100_000).toBeCloseTo(0.4, 1);
    expect(Math.abs(c.get('stat')! / 100_000 - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(c.get('delete')! / 100_000 - 0.1)).toBeLessThan(0.01);
  });

  it('normalises weights that do not sum to 1 and never draws weight 0', () => {
    const mix = weightedChoice(
      [
        ['a', 30],
        ['b', 10],
        ['never', 0],
      ],
      createRng(2),
    );
    expect(mix.probabilities).toEqual([
      { value: 'a', p: 0.75 },
      { value: 'b', p: 0.25 },
    ]);
    const c = counts(() => mix.draw(), 40_000);
    expect(c.has('never')).toBe(false);
    expect(Math.abs(c.get('a')! / 40_000 - 0.75)).toBeLessThan(0.01);
  });

  it('replays the same draws for the same seed', () => {
    const seq = (seed: number) => {
      const m = operationMix({ a: 1, b: 1, c: 1 }, createRng(seed));
      return Array.from({ length: 30 }, () => m.draw());
    };
    expect(seq(4)).toEqual(seq(4));
    expect(seq(4)).not.toEqual(seq(5));
  });

  it('refuses a mix with no positive weight', () => {
    expect(() => weightedChoice([['a', 0]], createRng(1))).toThrow(/greater than 0/);
  });
});

describe('sizes', () => {
  it('parses size keys (K = 1024) and draws them by weight', () => {
    const { sizes, problems } = parseSizeWeights({ '4KB': 3, '1MB': 1, '512': 0 }, 'workload.fileSizes');
    expect(problems).toEqual([]);
    expect(sizes).toEqual([
      { bytes: 512, weight: 0 },
      { bytes: 4096, weight: 3 },
      { bytes: 1048576, weight: 1 },
    ]);
    const d = sizeDistribution(sizes, createRng(3));
    const c = counts(() => d.draw(), 40_000);
    expect(c.has(512)).toBe(false);
    expect(Math.abs(c.get(4096)! / 40_000 - 0.75)).toBeLessThan(0.01);
  });

  it('reports every bad key at once with its path', () => {
    const { problems } = parseSizeWeights({ '4XB': 1, 'big': 1, '1KB': 1 }, 'workload.fileSizes');
    expect(problems.map((p) => p.path)).toEqual(['workload.fileSizes["4XB"]', 'workload.fileSizes["big"]']);
    expect(problems[0].message).toMatch(/not a size/);
  });

  it('needs at least one positive weight', () => {
    expect(parseSizeWeights({ '4KB': 0 }, 'workload.fileSizes').problems[0]).toMatchObject({ path: 'workload.fileSizes' });
    expect(parseSizeWeights({}, 'workload.fileSizes').problems).toHaveLength(1);
  });
});
