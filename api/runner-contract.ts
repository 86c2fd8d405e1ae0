// The runner contract: what the controller hands a runner process and what the
// runner leaves behind. Both sides import these types; nothing else couples them.
import type { Load, Workload } from './schemas.js';

/** Written by the controller to `<runDir>/spec.json`; `--spec` points at it. */
export interface RunnerSpec {
  benchmark: string;
  runId: string;
  workload: Workload;
  /** Parsed load: durations already in milliseconds. */
  load: Load;
  /** Resolved service endpoint, when the workload talks to a service. */
  endpoint?: { host: string; port: number; scheme: 'http' | 'https' };
  /** Total ranks (nodes x tasksPerNode); rank r runs 1/ranks of rate, workers and maxRequests. */
  ranks: number;
}

/** One JSON object per stdout line. */
export type RunnerLine =
  | { event: 'started'; rank: number; runId: string; time: string }
  | { event: 'progress'; rank: number; elapsedMs: number; requests: number; errors: number; rps: number; p99Ms: number; inWarmup: boolean }
  | { event: 'done'; rank: number; exitCode: number; reason?: string };

export interface OperationTotals {
  requests: number;
  errors: number;
  bytes: number;
  /** Error message (truncated) -> count; at most 20 distinct messages kept. */
  errorsByReason: Record<string, number>;
}

/** `<outDir>/rank-<N>.summary.json`: counts for the measured window (warmup excluded). */
export interface RankSummary {
  rank: number;
  runId: string;
  startedAt: string;
  /** First measured instant (after warmup) and the end of the run, ISO. */
  measureStartedAt: string;
  endedAt: string;
  measuredMs: number;
  warmupMs: number;
  operations: Record<string, OperationTotals>;
  totals: OperationTotals & { dropped: number };
  /** Largest lag between intended and actual send time, ms. */
  maxSendLagMs: number;
  stopReason: 'duration' | 'maxRequests' | 'signal' | 'error';
}

/**
 * `<outDir>/rank-<N>.histograms.json`: op name (and "all") -> HDR histogram of
 * latency in microseconds, as hdr-histogram-js `encodeIntoCompressedBase64`.
 * `sendLag` holds the intended-vs-actual send lag histogram (microseconds).
 */
export type RankHistograms = Record<string, string>;

/** `<outDir>/rank-<N>.timeseries.json`: one row per wall-clock second of the run. */
export interface TimeSeriesRow {
  /** Seconds since the rank started (warmup included, flagged). */
  second: number;
  warmup: boolean;
  requests: number;
  errors: number;
  bytes: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** `<outDir>/rank-<N>.done.json`: written last, whatever the outcome. */
export interface RankDone {
  rank: number;
  exitCode: number;
  reason?: string;
  finishedAt: string;
}

export const rankFile = (rank: number, what: 'summary' | 'histograms' | 'timeseries' | 'done') => `rank-${rank}.${what}.json`;

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
