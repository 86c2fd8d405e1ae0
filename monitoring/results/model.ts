// The one results model: what a finished run measured, merged across ranks.
// Every output (status, SQLite, JSON/CSV/HTML/Prometheus reports) reads only this.
import { z } from 'zod';
import { GeneratorCheck } from '../../api/generator.js';
import { METRIC_KINDS } from '../../api/metrics.js';
import { PercentilesWithFailures, SloResult } from '../../api/slo.js';

export { PercentilesWithFailures, SloCheck, SloResult } from '../../api/slo.js';

/** The guide's timing block; all values in SECONDS. */
export const Timing = z.object({
  avg_duration: z.number(),
  median_duration: z.number(),
  min_duration: z.number(),
  max_duration: z.number(),
  stddev: z.number(),
});

/** Latency percentiles in SECONDS (the guide's unit). */
export const Percentiles = z.object({
  p50: z.number(),
  p90: z.number(),
  p95: z.number(),
  p99: z.number(),
  p999: z.number(),
});


/** The same latencies in milliseconds, plus min/mean/max, for people and the status block. */
export const LatencyMs = Percentiles.extend({
  min: z.number(),
  mean: z.number(),
  max: z.number(),
});

/**
 * Cumulative latency counts at fixed bounds (seconds), for a Prometheus histogram.
 * Counts come from the HDR histogram, so a bound is honoured to its 3-digit precision.
 */
export const Buckets = z.object({
  le: z.array(z.number()),
  counts: z.array(z.number()),
  count: z.number(),
  sumSeconds: z.number(),
});

/** A mean's confidence interval: Wilson's, over n values in [0, 1] (api/metrics.ts, wilsonInterval). */
export const MetricInterval = z.object({ method: z.literal('wilson'), confidence: z.number(), n: z.number(), low: z.number(), high: z.number() });

/**
 * A declared metric (time to first token, tokens, bytes, recall...) over the
 * measured window, merged across ranks. Values are in the metric's own unit
 * (ms for timings). `mean` and `sum` are exact; percentiles come from the
 * merged HDR histogram (3 significant digits).
 */
export const MetricStats = z.object({
  kind: z.enum(METRIC_KINDS),
  unit: z.string(),
  help: z.string(),
  /** Values recorded: one per request that reported it (one per gap for inter-token latency). */
  count: z.number(),
  sum: z.number(),
  /** Sum per second of the measured window: tokens/s, bytes/s (most useful for counts). */
  perSecond: z.number(),
  /** Counts only: the largest sum in one second of the measured window (peak tokens/s). */
  peakPerSecond: z.number().optional(),
  mean: z.number(),
  min: z.number(),
  p50: z.number(),
  p90: z.number(),
  p95: z.number(),
  p99: z.number(),
  p999: z.number(),
  max: z.number(),
  stddev: z.number(),
  /** Timings only: cumulative counts at fixed bounds, for a Prometheus histogram. */
  buckets: Buckets.optional(),
  /** Values declared with an interval (recall): the mean's confidence interval over the `n` values recorded. */
  interval: MetricInterval.optional(),
});

export const OperationResult = z.object({
  /** Requests sent, failures included (dropped arrivals were never sent, so are not here). */
  total_requests: z.number(),
  successful: z.number(),
  failed: z.number(),
  /** Successful requests per second of the measured window. */
  throughput: z.number(),
  /** Percent, 0..100, as in the guide. */
  success_rate: z.number(),
  timing: Timing,
  percentiles: Percentiles,
  latencyMs: LatencyMs,
  buckets: Buckets,
  /** Error message -> count, summed across ranks. */
  errors: z.record(z.string(), z.number()),
  /** With per-request SLO limits: successful requests within all of them, and those per second. */
  good: z.number().optional(),
  goodput: z.number().optional(),
  /** Declared metric name -> its statistics for this operation. */
  metrics: z.record(z.string(), MetricStats),
});

/** The guide's per-service block. */
export const ServiceResult = z.object({
  total_requests: z.number(),
  success_rate: z.number(),
  throughput: z.number(),
  timing: Timing,
});

/**
 * One second of the run, merged across ranks by wall-clock second (each rank's
 * rows are shifted by its start offset from the earliest rank). Counts are summed
 * and meanMs is request-weighted, so both are exact. Per-second percentiles cannot
 * be merged exactly from rank rows: p50Ms is the request-weighted mean of the rank
 * p50s and p99Ms/maxMs are the max over ranks (an upper bound). Exact run-wide
 * percentiles come from the merged histograms, not from these rows.
 */
export const TimeSeriesPoint = z.object({
  /** Seconds since the run's earliest rank started. */
  second: z.number(),
  /** True when any contributing rank was still warming up in this second. */
  warmup: z.boolean(),
  requests: z.number(),
  errors: z.number(),
  meanMs: z.number(),
  p50Ms: z.number(),
  p99Ms: z.number(),
  maxMs: z.number(),
  /** Ranks that reported this second. */
  ranks: z.number(),
  /** Count metrics summed over the second (tokens, bytes): exact. */
  counts: z.record(z.string(), z.number()),
});

/** One point of a sweep: the load it ran at and what it measured. */
export const SweepRow = z.object({
  index: z.number(),
  /** Open loop: offered rate, req/s. Closed loop: workers. */
  rate: z.number().optional(),
  workers: z.number().optional(),
  requests: z.number(),
  failed: z.number(),
  dropped: z.number(),
  durationS: z.number(),
  /** Successful requests per second. */
  throughput: z.number(),
  goodput: z.number().optional(),
  latencyP50Ms: z.number(),
  latencyP99Ms: z.number(),
  /** p99 latency with failures as infinitely slow; null when they fill it. */
  latencyP99MsWithFailures: z.number().nullable(),
  /** Timing metrics: p50 and p99, ms. */
  timings: z.record(z.string(), z.object({ p50: z.number(), p99: z.number() })),
  /** Count metrics: sum per second (tokens/s, bytes/s). */
  perSecond: z.record(z.string(), z.number()),
  /** Value metrics (recall): the mean, with its interval when declared. */
  values: z.record(z.string(), z.object({ mean: z.number(), count: z.number(), interval: MetricInterval.optional() })).optional(),
  /** A parameter sweep: the workload parameter this point set (efSearch, nprobe...) and its value. */
  parameter: z.object({ name: z.string(), value: z.number() }).optional(),
  sloPassed: z.boolean().optional(),
  keptUp: z.boolean().optional(),
  endedBy: z.string(),
});

export const RunResult = z.object({
  runId: z.string(),
  benchmark: z.string(),
  generation: z.number(),
  attempt: z.number(),
  /** Earliest rank start and latest rank end, ISO (warmup included). */
  startedAt: z.string(),
  completedAt: z.string(),
  /** Ranks whose results were merged. */
  ranks: z.number(),
  /** Measured window (warmup excluded), max over ranks, seconds. */
  durationS: z.number(),
  summary: z.object({
    total_requests: z.number(),
    successful_requests: z.number(),
    failed_requests: z.number(),
    /** Open-loop arrivals refused by the concurrency cap; never sent, so not in total_requests. */
    dropped_requests: z.number(),
    /** Percent, 0..100. */
    success_rate: z.number(),
    /** Seconds; equals durationS (the measured window). */
    total_duration: z.number(),
    /** Successful requests per second. */
    throughput: z.number(),
  }),
  timing: Timing,
  percentiles: Percentiles,
  latencyMs: LatencyMs,
  buckets: Buckets,
  operations: z.record(z.string(), OperationResult),
  /** Declared metric name -> its statistics over every operation. */
  metrics: z.record(z.string(), MetricStats),
  services: z.record(z.string(), ServiceResult),
  sendLag: z.object({ p50Ms: z.number(), p99Ms: z.number(), maxMs: z.number() }),
  timeseries: z.array(TimeSeriesPoint),
  slo: SloResult.optional(),
  /**
   * MLPerf-style percentiles: every failed request counted as infinitely slow,
   * beside the failed share, so a server that rejects requests cannot look
   * faster. Latency and each timing metric, in ms.
   */
  withFailures: z.object({
    failedShare: z.number(),
    latencyMs: PercentilesWithFailures,
    metrics: z.record(z.string(), PercentilesWithFailures),
  }),
  /** With per-request SLO limits: successful requests within all of them, and those per second. */
  goodput: z.object({ good: z.number(), perSecond: z.number() }).optional(),
  /** Why the run ended (every rank's reason): duration, maxRequests, settled (slo.earlyStop), signal or error. */
  endedBy: z.string(),
  /** With slo.earlyStop: each per-request limit's verdict when the run ended. */
  verdicts: z.record(z.string(), z.enum(['met', 'missed', 'open'])).optional(),
  /**
   * Several ranks: how far apart their measured windows started (they start
   * together at one instant), when the first and the last finished, and how many
   * a stonewall stopped (load.stonewall: stopped when the first finished its share).
   */
  ranksInStep: z.object({ startSkewMs: z.number(), firstDoneAt: z.string(), lastDoneAt: z.string(), stonewalled: z.number() }).optional(),
  /**
   * A sweep: one row per point, why it ended, and which point the rest of this
   * result describes (the highest load that met the SLO; without an SLO, the
   * knee or the highest throughput).
   */
  sweep: z.object({ ended: z.string(), primary: z.number(), points: z.array(SweepRow) }).optional(),
  /** Open loop: whether the load generator sent what load.rate asked, on time (api/generator.ts); when not, `warnings` says why. */
  generator: GeneratorCheck.optional(),
  /** Things the user should know that did not stop the merge (e.g. a rank that left no summary). */
  warnings: z.array(z.string()),
});

export type Timing = z.output<typeof Timing>;
export type Percentiles = z.output<typeof Percentiles>;
export type LatencyMs = z.output<typeof LatencyMs>;
export type Buckets = z.output<typeof Buckets>;
export type MetricStats = z.output<typeof MetricStats>;
export type OperationResult = z.output<typeof OperationResult>;
export type ServiceResult = z.output<typeof ServiceResult>;
export type TimeSeriesPoint = z.output<typeof TimeSeriesPoint>;
export type RunResult = z.output<typeof RunResult>;
export type SweepRow = z.output<typeof SweepRow>;
