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
});
export type MetricDecl = z.output<typeof MetricDecl>;

/** What one request reports: a number per declared metric, or several (one per token gap). */
export type MetricSample = Record<string, number | readonly number[]>;

/** How many HDR units one unit of the metric is: microseconds for timings, millionths for values. */
export function metricScale(kind: MetricKind): number {
  return kind === 'timing' ? 1000 : kind === 'value' ? 1_000_000 : 1;
}

