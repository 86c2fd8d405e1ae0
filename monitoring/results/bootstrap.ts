// Bootstrap confidence intervals for the difference of a quantile between two
// runs, resampled from each run's merged HDR histogram with a seeded RNG.
import type * as hdr from 'hdr-histogram-js';
import { sampleGamma } from '../../clients/engine/arrivals.js';
import { createRng, deriveSeed, type Rng } from '../../clients/engine/rng.js';

/**
 * A histogram's recorded values, ascending, with their cumulative counts: the
 * empirical distribution a bootstrap resamples. Each value is its HDR slot's
 * highest equivalent value, as getValueAtPercentile reports it, so a quantile
 * here equals the one in the run's report.
 */
export interface Distribution {
  values: Float64Array;
  cumulative: Float64Array;
  total: number;
}

/** The slot-level API of hdr-histogram-js's JsHistogram (what decodeFromCompressedBase64 and build return without WebAssembly). */
interface Slots {
  countsArrayLength: number;
  getCountAtIndex(i: number): number;
  valueFromIndex(i: number): number;
  highestEquivalentValue(v: number): number;
}

const hasSlots = (h: unknown): h is Slots =>
  typeof (h as Slots).countsArrayLength === 'number' &&
  typeof (h as Slots).getCountAtIndex === 'function' &&
  typeof (h as Slots).valueFromIndex === 'function' &&
  typeof (h as Slots).highestEquivalentValue === 'function';

/** The distribution of a histogram, values divided by `scale` (1000 turns microseconds into ms). */
export function distributionOf(h: hdr.Histogram, scale = 1): Distribution {
  if (!hasSlots(h)) throw new Error('bootstrap needs a JavaScript HDR histogram (hdr-histogram-js JsHistogram), not a WebAssembly one');
  const values: number[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (let i = 0; i < h.countsArrayLength; i++) {
    const c = h.getCountAtIndex(i);
    if (c <= 0) continue;
    total += c;
    values.push(h.highestEquivalentValue(h.valueFromIndex(i)) / scale);
    cumulative.push(total);
  }
  return { values: Float64Array.from(values), cumulative: Float64Array.from(cumulative), total };
}

/** The rank of percentile p (0..100] among n values, as HDR counts it: at least 1, rounded up. */
export function rankAt(p: number, n: number): number {
  const fp = (Math.min(p, 100) / 100) * n;
  // fp can come out one ulp above an exact integer (0.29 * 100); do not let that skip a count.
  return Math.max(1, Math.ceil(fp - fp * Number.EPSILON));
}

/** The smallest value whose cumulative count reaches `count`. */
function valueAtCount(d: Distribution, count: number): number {
  let lo = 0;
  let hi = d.cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (d.cumulative[mid] >= count) hi = mid;
    else lo = mid + 1;
  }
  return d.values[lo];
}

/** The distribution's p-th percentile (0..100), as HDR's getValueAtPercentile gives it; NaN when empty. */
export function quantileOf(d: Distribution, p: number): number {
  if (d.total === 0) return NaN;
  return valueAtCount(d, rankAt(p, d.total));
}

function sampleBeta(a: number, b: number, rng: Rng): number {
  const x = sampleGamma(a, rng);
  const y = sampleGamma(b, rng);
  return x / (x + y);
}

/**
 * The p-th percentile of one bootstrap resample: n values drawn with
 * replacement from d. That percentile is the resample's k-th smallest value,
 * and the k-th smallest of n draws is F⁻¹(U) with U the k-th smallest of n
 * uniforms, which is Beta(k, n - k + 1). Drawing U and inverting the
 * histogram's CDF gives exactly the value sorting n draws would give, at a
 * cost that does not grow with n.
 */
export function resampledQuantile(d: Distribution, p: number, n: number, rng: Rng): number {
  const k = rankAt(p, n);
  const u = sampleBeta(k, n - k + 1, rng);
  // F(x_i) = cumulative[i] / total, so F⁻¹(u) is the first value whose cumulative count reaches u * total.
  return valueAtCount(d, Math.max(Number.MIN_VALUE, u * d.total));
}

export interface BootstrapOptions {
  /** Resamples; 1000 unless told. */
  resamples?: number;
  /** Seed of the RNG: the same seed gives the same interval. */
  seed?: number;
  /** Two-sided confidence, 0.95 unless told. */
  confidence?: number;
  /** Names this comparison's own random stream, so adding a comparison never shifts another's draws. */
  stream?: string;
}

export const DEFAULT_RESAMPLES = 1000;
export const DEFAULT_SEED = 1;
export const DEFAULT_CONFIDENCE = 0.95;

export interface QuantileDifference {
  /** B's percentile minus A's, from the full histograms. */
  observed: number;
  /** Percentile bootstrap interval of that difference. */
  low: number;
  high: number;
}

/** FNV-1a: a stable number for a stream name. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The q-quantile (0..1) of sorted numbers, by the empirical CDF's inverse (no interpolation). */
function sortedQuantile(sorted: Float64Array, q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

/**
 * Bootstrap interval of quantile_p(B) - quantile_p(A): each resample draws
 * every run's own number of requests from its histogram, independently, and
 * the interval is the percentiles of the resampled differences. Undefined when
 * either run recorded nothing.
 */
export function bootstrapQuantileDifference(a: Distribution, b: Distribution, p: number, opts: BootstrapOptions = {}): QuantileDifference | undefined {
  if (a.total === 0 || b.total === 0) return undefined;
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
  const rng = createRng(deriveSeed(opts.seed ?? DEFAULT_SEED, hashString(`${opts.stream ?? ''}@p${p}`)));
  const diffs = new Float64Array(resamples);
  for (let i = 0; i < resamples; i++) diffs[i] = resampledQuantile(b, p, b.total, rng) - resampledQuantile(a, p, a.total, rng);
  diffs.sort();
  const alpha = 1 - confidence;
  return { observed: quantileOf(b, p) - quantileOf(a, p), low: sortedQuantile(diffs, alpha / 2), high: sortedQuantile(diffs, 1 - alpha / 2) };
}
