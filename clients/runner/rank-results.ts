// This rank's results in the status block's short form, so the runner can end
// its log with the same summary `aifbctl describe` shows for the merged run.
import { checkGenerator } from '../../api/generator.js';
import type { ResultsSummary, MetricSummary } from '../../api/schemas.js';
import { metricScale } from '../../api/metrics.js';
import type { TimeSeriesRow } from '../../api/runner-contract.js';
import type { PercentilesWithFailures, SloInputs } from '../../api/slo.js';
import type { LoadResults } from '../engine/engine.js';
import { maxMs, meanMs, percentileMs, withFailuresOf, type Histogram } from '../engine/histogram.js';

const round3 = (x: number) => Math.round(x * 1000) / 1000;



/** The largest per-second sum of each count metric over the measured seconds, fed row by row. */
export class PeakCounts {
  readonly peaks: Record<string, number> = {};

  add(row: TimeSeriesRow): void {
    if (row.warmup) return;
    for (const [name, n] of Object.entries(row.counts)) this.peaks[name] = Math.max(this.peaks[name] ?? 0, n);
  }
}

export function rankResultsSummary(r: LoadResults, peaks: Record<string, number>): ResultsSummary {
  const { requests, errors } = r.totals;
  const seconds = r.measuredMs / 1000;
  const per = (n: number) => (seconds > 0 ? n / seconds : 0);
  const all = r.histograms.all;
  const p99f = (h: Histogram, scale: number) => {
    const v = withFailuresOf(h, errors, scale).p99;
    return v === null ? null : round3(v);
  };
  const metrics: Record<string, MetricSummary> = {};
  for (const [name, m] of r.histograms.metricsAcrossOps()) {
    const scale = metricScale(m.decl.kind);
    const at = (p: number) => (m.histogram.totalCount === 0 ? 0 : round3(m.histogram.getValueAtPercentile(p) / scale));
    metrics[name] = {
      unit: m.decl.unit,
      mean: m.count > 0 ? round3(m.sum / m.count) : 0,
      p50: at(50),
      p99: at(99),
      ...(m.decl.kind === 'count' ? { sum: m.sum, perSecond: round3(per(m.sum)), peakPerSecond: peaks[name] ?? 0 } : {}),
      ...(m.decl.kind === 'timing' ? { p99WithFailures: p99f(m.histogram, scale) } : {}),
    };
  }
  const lagP99 = percentileMs(r.histograms.sendLag, 99);
  return {
    requests,
    errors,
    errorRate: requests > 0 ? errors / requests : 0,
    durationS: seconds,
    throughput: round3(per(requests - errors)),
    meanMs: round3(meanMs(all)),
    p50Ms: percentileMs(all, 50),
    p90Ms: percentileMs(all, 90),
    p95Ms: percentileMs(all, 95),
    p99Ms: percentileMs(all, 99),
    p999Ms: percentileMs(all, 99.9),
    maxMs: maxMs(all),
    ...(Object.keys(metrics).length > 0 ? { metrics } : {}),
    p99MsWithFailures: p99f(all, 1000),
    ...(r.totals.good !== undefined ? { goodput: round3(per(r.totals.good)) } : {}),
    endedBy: r.stopReason,
    ...(Object.keys(r.totals.errorsByReason).length > 0
      ? { errorReasons: Object.fromEntries(Object.entries(r.totals.errorsByReason).sort(([, a], [, b]) => b - a).slice(0, 5)) }
      : {}),
    ...(lagP99 > 0 ? { sendLagP99Ms: round3(lagP99) } : {}),
    ...(r.targetRate !== undefined
      ? { generator: checkGenerator({ targetRate: r.targetRate, sent: r.sent, measuredS: seconds, sendLagP99Ms: lagP99, dropped: r.totals.dropped }) }
      : {}),
  };
}

/** What an SLO can judge of this rank's run (a sweep point judged before the next one starts). */
export function sloInputsOf(r: LoadResults): SloInputs {
  const { requests, errors } = r.totals;
  const all = r.histograms.all;
  const seconds = r.measuredMs / 1000;
  const per = (n: number) => (seconds > 0 ? n / seconds : 0);
  const withFailures = (h: Histogram, scale: number) => withFailuresOf(h, errors, scale);
  const metrics: Record<string, PercentilesWithFailures> = {};
  for (const [name, m] of r.histograms.metricsAcrossOps()) if (m.decl.kind === 'timing') metrics[name] = withFailures(m.histogram, metricScale('timing'));
  return {
    latencyMs: { p50: percentileMs(all, 50), p95: percentileMs(all, 95), p99: percentileMs(all, 99) },
    errorRate: requests > 0 ? errors / requests : 0,
    throughput: per(requests - errors),
    withFailures: { latencyMs: withFailures(all, 1000), metrics },
    ...(r.totals.good !== undefined ? { goodput: per(r.totals.good) } : {}),
  };
}
