// Weighted draws for the operation mix and the size distribution: weights are
// normalised, entries with weight 0 are never drawn, the seeded rng decides.
import { parseSize } from '../../api/units.js';
import type { Rng } from './rng.js';

export interface WeightedChoice<T> {
  draw(): T;
  /** The normalised probabilities, in entry order (for reports and tests). */
  readonly probabilities: ReadonlyArray<{ value: T; p: number }>;
}

export function weightedChoice<T>(entries: ReadonlyArray<readonly [T, number]>, rng: Rng): WeightedChoice<T> {
  const live = entries.filter(([, w]) => w > 0);
  const total = live.reduce((sum, [, w]) => sum + w, 0);
  if (live.length === 0 || !Number.isFinite(total)) throw new Error('a weighted mix needs at least one finite weight greater than 0');
  const values = live.map(([v]) => v);
  const cumulative = new Float64Array(live.length);
  let acc = 0;
  live.forEach(([, w], i) => {
    acc += w / total;
    cumulative[i] = acc;
  });
  cumulative[live.length - 1] = 1; // float sums may land just below 1
  const last = live.length - 1;
  return {
    probabilities: live.map(([value, w]) => ({ value, p: w / total })),
    draw() {
      const u = rng.next();
      // Linear scan: mixes have a handful of entries, so this beats bisection.
      for (let i = 0; i < last; i++) if (u < cumulative[i]) return values[i];
      return values[last];
    },
  };
}

/** Operation name -> weight, as written in a workload's `operationMix`. */
export function operationMix(weights: Record<string, number>, rng: Rng): WeightedChoice<string> {
  return weightedChoice(Object.entries(weights), rng);
}

export interface SizeWeight {
  bytes: number;
  weight: number;
}

/**
 * Parses `{ "4KB": 3, "1MB": 1 }` into bytes and weights, collecting every bad
 * key at once so the user fixes them in one go.
 */
export function parseSizeWeights(sizes: Record<string, number>, path: string): { sizes: SizeWeight[]; problems: Array<{ path: string; message: string }> } {
  const out: SizeWeight[] = [];
  const problems: Array<{ path: string; message: string }> = [];
  for (const [key, weight] of Object.entries(sizes)) {
    const at = `${path}["${key}"]`;
    try {
      out.push({ bytes: parseSize(key), weight });
    } catch (e) {
      problems.push({ path: at, message: (e as Error).message });
    }
    if (!(weight >= 0) || !Number.isFinite(weight)) problems.push({ path: at, message: `weight must be a non-negative number, got ${weight}` });
  }
  if (problems.length === 0 && !out.some((s) => s.weight > 0)) {
    problems.push({ path, message: 'give at least one size a weight greater than 0, e.g. { "4KB": 1 }' });
  }
  return { sizes: out, problems };
}

export function sizeDistribution(sizes: ReadonlyArray<SizeWeight>, rng: Rng): WeightedChoice<number> {
  return weightedChoice(
    sizes.map((s) => [s.bytes, s.weight] as const),
    rng,
  );
}
