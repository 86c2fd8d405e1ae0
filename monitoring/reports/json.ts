// The JSON report: the guide's report.json fields (benchmark_id, timestamp,
// summary, timing, percentiles, services) plus what aifb measures beyond them.
import { z } from 'zod';
import { LatencyMs, MetricStats, OperationResult, Percentiles, RunResult, ServiceResult, SloResult, Timing, TimeSeriesPoint } from '../results/model.js';

export const JsonReport = z.object({
  benchmark_id: z.string(),
  /** When the run completed, ISO. */
  timestamp: z.string(),
  benchmark: z.string(),
  generation: z.number(),
  attempt: z.number(),
  started_at: z.string(),
  completed_at: z.string(),
  ranks: z.number(),
  summary: RunResult.shape.summary,
  timing: Timing,
  percentiles: Percentiles,
  services: z.record(z.string(), ServiceResult),
  operations: z.record(z.string(), OperationResult),
  /** Declared metrics (ttft, tokens, bytes...) over every operation; each operation carries its own too. */
  metrics: z.record(z.string(), MetricStats),
  latencyMs: LatencyMs,
  /** Cumulative latency buckets of every request (seconds), as Prometheus's histogram has them. */
  buckets: RunResult.shape.buckets,
  sendLag: RunResult.shape.sendLag,
  slo: SloResult.optional(),
  withFailures: RunResult.shape.withFailures,
  goodput: RunResult.shape.goodput,
  endedBy: z.string(),
  verdicts: RunResult.shape.verdicts,
  sweep: RunResult.shape.sweep,
  ranksInStep: RunResult.shape.ranksInStep,
  generator: RunResult.shape.generator,
  timeseries: z.array(TimeSeriesPoint),
  warnings: z.array(z.string()),
});
export type JsonReport = z.output<typeof JsonReport>;

export function toJsonReport(r: RunResult): JsonReport {
  return {
    benchmark_id: r.runId,
    timestamp: r.completedAt,
    benchmark: r.benchmark,
    generation: r.generation,
    attempt: r.attempt,
    started_at: r.startedAt,
    completed_at: r.completedAt,
    ranks: r.ranks,
    summary: r.summary,
    timing: r.timing,
    percentiles: r.percentiles,
    services: r.services,
    operations: r.operations,
    metrics: r.metrics,
    latencyMs: r.latencyMs,
    buckets: r.buckets,
    sendLag: r.sendLag,
    ...(r.slo ? { slo: r.slo } : {}),
    withFailures: r.withFailures,
    ...(r.goodput ? { goodput: r.goodput } : {}),
    endedBy: r.endedBy,
    ...(r.verdicts ? { verdicts: r.verdicts } : {}),
    ...(r.sweep ? { sweep: r.sweep } : {}),
    ...(r.ranksInStep ? { ranksInStep: r.ranksInStep } : {}),
    ...(r.generator ? { generator: r.generator } : {}),
    timeseries: r.timeseries,
    warnings: r.warnings,
  };
}

export const renderJson = (r: RunResult): string => `${JSON.stringify(toJsonReport(r), null, 2)}\n`;
