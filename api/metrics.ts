// What a workload measures besides latency. A client declares each metric up
// front; the engine keeps one HDR histogram per metric per operation per rank,
// and every output carries them under these names.
import { z } from 'zod';

/**
 * - timing: milliseconds (time to first token, inter-token gaps, time to first byte)
 * - count: a whole number per request, summed and shown per second too (tokens, bytes, rows)
 * - value: a number per request (recall@k), recorded in millionths
 * Percentiles keep 3 significant digits (HDR histograms); sums and means are exact.
 */
export const METRIC_KINDS = ['timing', 'count', 'value'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

export const MetricDecl = z.strictObject({
  /** camelCase; reports use it as is, Prometheus in snake_case. */
  name: z.string().regex(/^[a-z][a-zA-Z0-9]*$/, 'must be camelCase letters and digits, e.g. outputTokens'),
  kind: z.enum(METRIC_KINDS),
  /** `ms` for timings; what is counted for counts (`tokens`, `bytes`); `ratio` and the like for values. */
  unit: z.string().min(1),
  help: z.string().min(1),
  /**
   * Timings only: the client measures it from when it sent the request; the
   * engine then counts it from the intended send time, as it does the latency,
   * so a queue in front of the client cannot hide in it. Gaps (between tokens)
   * are not shifted.
   */
  sinceSend: z.boolean().optional(),
  /**
   * Values only, each in [0, 1] and each an independent observation (recall of
   * a distinct query): reports add the mean's 95% Wilson interval (wilsonInterval).
   */
  interval: z.literal('wilson').optional(),
});
export type MetricDecl = z.output<typeof MetricDecl>;

/** What one request reports: a number per declared metric, or several (one per token gap). */
export type MetricSample = Record<string, number | readonly number[]>;

/** How many HDR units one unit of the metric is: microseconds for timings, millionths for values. */
export function metricScale(kind: MetricKind): number {
  return kind === 'timing' ? 1000 : kind === 'value' ? 1_000_000 : 1;
}


/** The confidence of the intervals reports give for metrics declared with `interval`. */
export const INTERVAL_CONFIDENCE = 0.95;

/**
 * The Wilson score interval for the mean of n observations in [0, 1] (a mean
 * recall over n queries). For a proportion it is the usual Wilson interval;
 * for values in [0, 1] it is conservative: with a given mean, 0/1 values
 * (Bernoulli) have the largest variance any such values can have. Unlike the
 * normal approximation it stays honest at a mean of 1 (every query perfect):
 * 200 perfect queries give [0.981, 1], not [1, 1].
 */
export function wilsonInterval(mean: number, n: number, confidence = INTERVAL_CONFIDENCE): { low: number; high: number } {
  if (n <= 0) return { low: 0, high: 1 };
  const p = Math.min(1, Math.max(0, mean));
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const z2n = (z * z) / n;
  const center = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  return { low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

/** The standard normal quantile (Acklam's rational approximation, relative error under 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
