// The runner contract: what the controller hands a runner process and what the
// runner leaves behind. Both sides parse these schemas; nothing else couples them.
import { z } from 'zod';
import { Connection } from './connection.js';
import { Name } from './fields.js';
import { MetricDecl } from './metrics.js';
import { Load } from './schemas.js';
import { Slo } from './slo.js';

/** Used in folder names on shared file systems: safe characters only. */
export const RunId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be letters, digits, ".", "_" or "-" (it names folders)');

/**
 * `<runDir>/spec.json`, for a given workload schema (the registry's union). The
 * controller writes it with `z.encode` and the runner reads it with `z.decode`
 * of the same schema, so a duration the controller parsed to 1500 ms is written
 * as "1500ms" and read back as 1500 ms.
 */
export function runnerSpec<W extends z.ZodType>(workload: W) {
  return z.strictObject({
    benchmark: Name,
    runId: RunId,
    workload,
    load: Load,
    /** How to reach the service, when the workload talks to one. */
    service: Connection.optional(),
    /** Total ranks (nodes x tasksPerNode x threads); rank r runs 1/ranks of rate, workers and maxRequests. */
    ranks: z.number().int().positive(),
    /** Ranks per runner process, each in a worker thread: process p runs ranks p x threads .. (p + 1) x threads - 1 (default 1). */
    threads: z.number().int().positive().optional(),
    /** The benchmark's SLO: the runner judges each request against its per-request limits (goodput, early stopping). */
    slo: Slo.optional(),
  });
}

/**
 * Prometheus bucket bounds in seconds, shared by live metrics and reports:
 * 100 us .. 60 s covers file, SQL, vector and LLM latencies.
 */
export const BUCKET_BOUNDS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/** Cumulative counts at BUCKET_BOUNDS_S (`le`), their total and the sum of what they hold, seconds. */
export interface BucketCounts {
  le: number[];
  counts: number[];
  count: number;
  sumSeconds: number;
}

/** A declared metric so far: timings carry buckets (seconds); sums are in the metric's unit (ms for timings). */
export interface LiveMetric {
  kind: MetricDecl['kind'];
  count: number;
  sum: number;
  buckets?: Omit<BucketCounts, 'le'>;
}

/** One operation's measured window so far, cumulative: what live metrics and periodic pushes are made of. */
export interface LiveOperation {
  requests: number;
  errors: number;
  latency: Omit<BucketCounts, 'le'>;
  metrics: Record<string, LiveMetric>;
}

/** One JSON object per stdout line. */
export type RunnerLine =
  | { event: 'started'; rank: number; runId: string; time: string }
  | {
      event: 'progress';
      rank: number;
      elapsedMs: number;
      requests: number;
      errors: number;
      rps: number;
      p99Ms: number;
      inWarmup: boolean;
      /** Once the warmup is over: each operation's measured window so far (older runners: absent). */
      live?: Record<string, LiveOperation>;
    }
  | { event: 'done'; rank: number; exitCode: number; reason?: string };

const Count = z.number().nonnegative();

/** A declared metric over some requests: how many reported it and the exact sum of what they reported. */
export const MetricTotals = z.object({ count: Count, sum: z.number() });
export type MetricTotals = z.output<typeof MetricTotals>;

export const OperationTotals = z.object({
  requests: Count,
  errors: Count,
  /** Error message (truncated) -> count; at most 20 distinct messages kept. */
  errorsByReason: z.record(z.string(), Count),
  /** Declared metric name -> totals, for the metrics this operation reported. */
  metrics: z.record(z.string(), MetricTotals),
  /** With per-request SLO limits: successful requests within all of them (goodput). */
  good: Count.optional(),
});
export type OperationTotals = z.output<typeof OperationTotals>;

/** `<outDir>/rank-<N>.summary.json`: counts for the measured window (warmup excluded). */
export const RankSummary = z.object({
  rank: z.number().int().nonnegative(),
  runId: z.string(),
  startedAt: z.string(),
  /** First measured instant (after warmup) and the end of the run, ISO. */
  measureStartedAt: z.string(),
  endedAt: z.string(),
  measuredMs: Count,
  warmupMs: Count,
  /** What the client measures besides latency, so the merge needs no registry. */
  metrics: z.array(MetricDecl),
  operations: z.record(z.string(), OperationTotals),
  totals: OperationTotals.omit({ metrics: true }).extend({ dropped: Count }),
  /** Largest lag between intended and actual send time, ms. */
  maxSendLagMs: Count,
  /** Requests sent in the measured window, answered or not (older runners: absent). */
  sent: Count.optional(),
  /** Open loop: this rank's share of load.rate, req/s. */
  targetRate: z.number().optional(),
  /** `settled`: every per-request SLO verdict was settled before the duration (slo.earlyStop); `stonewall`: another rank finished first (load.stonewall). */
  stopReason: z.enum(['duration', 'maxRequests', 'settled', 'stonewall', 'signal', 'error']),
  /** With slo.earlyStop: each per-request limit's verdict at the end (met, missed, or still open). */
  verdicts: z.record(z.string(), z.enum(['met', 'missed', 'open'])).optional(),
});
export type RankSummary = z.output<typeof RankSummary>;

/**
 * `<outDir>/rank-<N>.histograms.json`: HDR histograms as hdr-histogram-js
 * `encodeIntoCompressedBase64`. Latency in microseconds per operation and
 * "all"; the intended-vs-actual send lag; per operation, one per declared
 * metric, in the metric's HDR units (see metricScale).
 */
export const RankHistograms = z.object({
  latency: z.record(z.string(), z.string()),
  sendLag: z.string(),
  metrics: z.record(z.string(), z.record(z.string(), z.string())),
});
export type RankHistograms = z.output<typeof RankHistograms>;

/** `<outDir>/rank-<N>.timeseries.json`: one row per wall-clock second of the run. */
export const TimeSeriesRow = z.object({
  /** Seconds since the rank started (warmup included, flagged). */
  second: z.number(),
  warmup: z.boolean(),
  requests: Count,
  errors: Count,
  meanMs: Count,
  p50Ms: Count,
  p99Ms: Count,
  maxMs: Count,
  /** Count metrics summed over the second (tokens, bytes, rows). */
  counts: z.record(z.string(), z.number()),
});
export type TimeSeriesRow = z.output<typeof TimeSeriesRow>;

/** `<outDir>/rank-<N>.done.json`: written last, whatever the outcome. */
export const RankDone = z.object({
  rank: z.number().int().nonnegative(),
  exitCode: z.number().int(),
  reason: z.string().optional(),
  finishedAt: z.string(),
});
export type RankDone = z.output<typeof RankDone>;

/** One point of a sweep: where its rank files are and how it went. */
export const SweepPoint = z.object({
  index: z.number().int().nonnegative(),
  /** Relative to the run folder: `points/<index>`, holding the point's rank files. */
  dir: z.string(),
  /** Open loop: the offered rate, req/s. */
  rate: z.number().optional(),
  /** Closed loop: the workers. */
  workers: z.number().optional(),
  /** A parameter sweep: the workload parameter this point set, and its value. */
  parameter: z.object({ name: z.string(), value: z.number() }).optional(),
  /** With spec.slo: whether this point met it, judged on this runner's requests. */
  sloPassed: z.boolean().optional(),
  /** Open loop: whether requests completed at 90% or more of the offered rate, with under 1% dropped. */
  keptUp: z.boolean().optional(),
});
export type SweepPoint = z.output<typeof SweepPoint>;

/** `<outDir>/rank-<N>.sweep.json`: a sweep's points in order, and why it ended. */
export const RankSweep = z.object({
  points: z.array(SweepPoint),
  /** Why the sweep ended: every point ran, the SLO broke, the server stopped keeping up, or a signal. */
  ended: z.string(),
});
export type RankSweep = z.output<typeof RankSweep>;

export const rankFile = (rank: number, what: 'summary' | 'histograms' | 'timeseries' | 'done' | 'sweep') => `rank-${rank}.${what}.json`;

/** Exit codes that mean something to the controller. */
export const RUNNER_EXIT = {
  ok: 0,
  /** Bad spec or client config: retrying cannot help. */
  config: 2,
  /** The service refused or failed during setup: may be retried. */
  setup: 3,
  /** Stopped by SIGTERM/SIGINT before the end. */
  interrupted: 4,
  crashed: 1,
} as const;
