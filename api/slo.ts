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
