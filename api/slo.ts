// A benchmark's service-level objectives. Two kinds, because people judge a
// serving stack two ways: percentiles of the run (p99 latency, error rate,
// throughput), and per-request limits (TTFT, TPOT, ITL, E2E) that make a
// request "good" (goodput, as vLLM counts it) and whose percentile verdict is
// MLPerf Inference's (a failed request counts as infinitely slow).
import { z } from 'zod';
import { Duration } from './fields.js';

/**
 * MLPerf Inference's LLM latency limits (p99 TTFT and TPOT, ms), by benchmark
 * name, so a run can be judged as a submission would be.
 */
export const SLO_PRESETS = {
  'llama2-70b': { ttft: 2000, tpot: 200 },
  'llama2-70b-interactive': { ttft: 450, tpot: 40 },
  'llama3.1-405b': { ttft: 6000, tpot: 175 },
  'llama3.1-8b': { ttft: 2000, tpot: 100 },
  'llama3.1-8b-interactive': { ttft: 500, tpot: 30 },
} as const satisfies Record<string, RequestLimits>;
export type SloPreset = keyof typeof SLO_PRESETS;

/** Per-request limits in ms. `e2e` is the request's latency; the others are the workload's metrics of those names. */
export interface RequestLimits {
  ttft?: number;
  tpot?: number;
  itl?: number;
  e2e?: number;
}
export const REQUEST_LIMITS = ['ttft', 'tpot', 'itl', 'e2e'] as const;
export type RequestLimitName = (typeof REQUEST_LIMITS)[number];

export const SLO_PERCENTILES = [50, 90, 95, 99, 99.9] as const;

export const EarlyStop = z.strictObject({
  /** How sure each verdict must be before the run may end (a one-sided binomial bound). */
  confidence: z.number().min(0.5).lt(1).default(0.99),
  /** Never end before this many measured requests. */
  minRequests: z.number().int().positive().default(100),
});
export type EarlyStop = z.output<typeof EarlyStop>;

export const Slo = z
  .strictObject({
    /** Latency percentiles over successful requests. */
    p50: Duration.optional(),
    p95: Duration.optional(),
    p99: Duration.optional(),
    errorRate: z.number().min(0).max(1).optional(),
    minThroughput: z.number().nonnegative().optional(),
    /** MLPerf Inference limits by name (p99 TTFT and TPOT); a hand-written ttft or tpot beside it wins. */
    preset: z.enum(Object.keys(SLO_PRESETS) as [SloPreset, ...SloPreset[]]).optional(),
    /** Per-request limits: a request within all of them is good (goodput); their `percentile` must be within them too. */
    ttft: Duration.optional(),
    tpot: Duration.optional(),
    itl: Duration.optional(),
    e2e: Duration.optional(),
    /** The percentile the per-request limits are judged at, failures counted as infinitely slow: 50, 90, 95, 99 or 99.9 (the ones every report carries). */
    percentile: z
      .number()
      .refine((p) => (SLO_PERCENTILES as readonly number[]).includes(p), { message: `must be one of ${SLO_PERCENTILES.join(', ')}` })
      .default(99),
    /** Good requests per second at least. */
    minGoodput: z.number().nonnegative().optional(),
    /** End the run once every per-request verdict is settled at this confidence, instead of at its duration. */
    earlyStop: EarlyStop.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.earlyStop && Object.keys(requestLimits(s)).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['earlyStop'], message: 'early stopping settles per-request limits: set slo.ttft, tpot, e2e or a preset' });
    }
    if (s.minGoodput !== undefined && Object.keys(requestLimits(s)).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['minGoodput'], message: 'goodput counts requests within the per-request limits: set slo.ttft, tpot, itl, e2e or a preset' });
    }
  });
export type Slo = z.output<typeof Slo>;

/** The per-request limits in force: the preset's, overridden by hand-written ones. */
export function requestLimits(slo: Pick<Slo, RequestLimitName | 'preset'>): RequestLimits {
  const out: RequestLimits = { ...(slo.preset ? SLO_PRESETS[slo.preset] : {}) };
  for (const k of REQUEST_LIMITS) if (slo[k] !== undefined) out[k] = slo[k];
  return out;
}

/** Percentiles with failed requests counted as infinitely slow; null where failures fill the percentile. */
export const PercentilesWithFailures = z.object({
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
  p999: z.number().nullable(),
});
export type PercentilesWithFailures = z.output<typeof PercentilesWithFailures>;

export const SloCheck = z.object({
  name: z.enum(['p50', 'p95', 'p99', 'errorRate', 'minThroughput', 'ttft', 'tpot', 'itl', 'e2e', 'minGoodput']),
  /** ttft, tpot, itl, e2e: the percentile judged, failures counted as infinitely slow. */
  percentile: z.number().optional(),
  target: z.number(),
  /** Null: failed requests fill the percentile (infinitely slow). */
  actual: z.number().nullable(),
  unit: z.enum(['ms', 'ratio', 'req/s']),
  passed: z.boolean(),
});
export type SloCheck = z.output<typeof SloCheck>;

export const SloResult = z.object({
  passed: z.boolean(),
  checks: z.array(SloCheck),
});
export type SloResult = z.output<typeof SloResult>;

/** What a run measured that an SLO can judge: the merged run's, or one runner's sweep point. */
export interface SloInputs {
  /** Latency percentiles over successful requests, ms. */
  latencyMs: { p50: number; p95: number; p99: number };
  /** Failed / total, 0..1. */
  errorRate: number;
  /** Successful requests per second. */
  throughput: number;
  /** Percentiles with failures as infinitely slow: latency and each timing metric, ms. */
  withFailures?: { latencyMs: PercentilesWithFailures; metrics: Record<string, PercentilesWithFailures> };
  /** Good requests per second, when the SLO has per-request limits. */
  goodput?: number;
}

/** One of SLO_PERCENTILES (the schema allows no other) read from a percentile block. */
function atPercentile(p: PercentilesWithFailures, percentile: number): number | null {
  const key = ({ 50: 'p50', 90: 'p90', 95: 'p95', 99: 'p99', 99.9: 'p999' } as const)[percentile as 50];
  return p[key];
}

/**
 * Judges a run against the SLO: latency percentiles, error rate, a floor on
 * throughput, each per-request limit at its percentile with failures counted
 * as infinitely slow (as MLPerf judges them), a floor on goodput. A run with no
 * requests fails every latency and error check: an empty run meets no SLO.
 */
export function evaluateSlo(slo: Slo, actual: SloInputs, requests: number): SloResult {
  const checks: SloCheck[] = [];
  const atMost = (name: 'p50' | 'p95' | 'p99' | 'errorRate', target: number, value: number, unit: 'ms' | 'ratio') =>
    checks.push({ name, target, actual: value, unit, passed: requests > 0 && value <= target });
  if (slo.p50 !== undefined) atMost('p50', slo.p50, actual.latencyMs.p50, 'ms');
  if (slo.p95 !== undefined) atMost('p95', slo.p95, actual.latencyMs.p95, 'ms');
  if (slo.p99 !== undefined) atMost('p99', slo.p99, actual.latencyMs.p99, 'ms');
  if (slo.errorRate !== undefined) atMost('errorRate', slo.errorRate, actual.errorRate, 'ratio');
  if (slo.minThroughput !== undefined)
    checks.push({ name: 'minThroughput', target: slo.minThroughput, actual: actual.throughput, unit: 'req/s', passed: actual.throughput >= slo.minThroughput });
  const limits = requestLimits(slo);
  for (const name of REQUEST_LIMITS) {
    const target = limits[name];
    if (target === undefined) continue;
    const block = name === 'e2e' ? actual.withFailures?.latencyMs : actual.withFailures?.metrics[name];
    // A metric no request reported (TPOT when every answer was one token) has nothing to judge: it cannot pass.
    const value = block ? atPercentile(block, slo.percentile) : null;
    checks.push({ name, percentile: slo.percentile, target, actual: value, unit: 'ms', passed: requests > 0 && value !== null && value <= target });
  }
  if (slo.minGoodput !== undefined) {
    const goodput = actual.goodput ?? 0;
    checks.push({ name: 'minGoodput', target: slo.minGoodput, actual: goodput, unit: 'req/s', passed: goodput >= slo.minGoodput });
  }
  return { passed: checks.every((c) => c.passed), checks };
}
