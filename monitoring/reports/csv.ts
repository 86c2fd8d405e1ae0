// CSV reports for spreadsheets and pandas: one file with a row per operation
// (plus "all"), one with a row per second. RFC 4180 quoting.
import type { MetricStats, OperationResult, RunResult } from '../results/model.js';

/** Quotes a field when it holds a comma, quote, newline or edge whitespace; quotes inside are doubled. */
export function csvField(v: string | number | boolean): string {
  const s = typeof v === 'number' ? formatNumber(v) : String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Six decimals at most, so float noise (0.30000000000000004) does not reach the file. */
function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(6)));
}

const line = (fields: (string | number | boolean)[]) => fields.map(csvField).join(',');

/** Error reasons as `reason: count` pairs joined by "; ", most frequent first. */
function errorsField(errors: Record<string, number>): string {
  return Object.entries(errors)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([reason, n]) => `${reason}: ${n}`)
    .join('; ');
}

export const OPERATIONS_HEADER = [
  'run_id',
  'benchmark',
  'operation',
  'total_requests',
  'successful',
  'failed',
  'success_rate',
  'throughput',
  'mean_ms',
  'min_ms',
  'p50_ms',
  'p90_ms',
  'p95_ms',
  'p99_ms',
  'p999_ms',
  'max_ms',
  'stddev_ms',
  'errors',
];

function opLine(r: RunResult, name: string, o: Pick<OperationResult, 'total_requests' | 'successful' | 'failed' | 'success_rate' | 'throughput' | 'latencyMs' | 'timing' | 'errors'>): string {
  const m = o.latencyMs;
  return line([
    r.runId,
    r.benchmark,
    name,
    o.total_requests,
    o.successful,
    o.failed,
    o.success_rate,
    o.throughput,
    m.mean,
    m.min,
    m.p50,
    m.p90,
    m.p95,
    m.p99,
    m.p999,
    m.max,
    o.timing.stddev * 1000,
    errorsField(o.errors),
  ]);
}

export function renderOperationsCsv(r: RunResult): string {
  const ops = Object.values(r.operations);
  const allErrors: Record<string, number> = {};
  for (const o of ops) for (const [reason, n] of Object.entries(o.errors)) allErrors[reason] = (allErrors[reason] ?? 0) + n;
  const rows = [line(OPERATIONS_HEADER), ...Object.entries(r.operations).map(([name, o]) => opLine(r, name, o))];
  rows.push(
    opLine(r, 'all', {
      total_requests: r.summary.total_requests,
      successful: r.summary.successful_requests,
      failed: r.summary.failed_requests,
      success_rate: r.summary.success_rate,
      throughput: r.summary.throughput,
      latencyMs: r.latencyMs,
      timing: r.timing,
      errors: allErrors,
    }),
  );
  return `${rows.join('\n')}\n`;
}

export const TIMESERIES_HEADER = ['run_id', 'second', 'warmup', 'requests', 'errors', 'mean_ms', 'p50_ms', 'p99_ms', 'max_ms', 'ranks'];

/** The fixed columns, then one per count metric (tokens, bytes) summed over the second. */
export function renderTimeseriesCsv(r: RunResult): string {
  const counts = Object.entries(r.metrics)
    .filter(([, m]) => m.kind === 'count')
    .map(([name]) => name);
  const rows = [
    line([...TIMESERIES_HEADER, ...counts]),
    ...r.timeseries.map((p) =>
      line([r.runId, p.second, p.warmup, p.requests, p.errors, p.meanMs, p.p50Ms, p.p99Ms, p.maxMs, p.ranks, ...counts.map((c) => p.counts[c] ?? 0)]),
    ),
  ];
  return `${rows.join('\n')}\n`;
}

export const METRICS_HEADER = ['run_id', 'benchmark', 'operation', 'metric', 'kind', 'unit', 'count', 'sum', 'per_second', 'peak_per_second', 'mean', 'min', 'p50', 'p90', 'p95', 'p99', 'p999', 'max', 'stddev'];

function metricLine(r: RunResult, op: string, name: string, m: MetricStats): string {
  return line([r.runId, r.benchmark, op, name, m.kind, m.unit, m.count, m.sum, m.perSecond, m.peakPerSecond ?? '', m.mean, m.min, m.p50, m.p90, m.p95, m.p99, m.p999, m.max, m.stddev]);
}

/** One row per operation and declared metric (time to first token, tokens, bytes...), plus operation "all". */
export function renderMetricsCsv(r: RunResult): string {
  const rows = [line(METRICS_HEADER)];
  for (const [op, o] of Object.entries(r.operations)) for (const [name, m] of Object.entries(o.metrics)) rows.push(metricLine(r, op, name, m));
  for (const [name, m] of Object.entries(r.metrics)) rows.push(metricLine(r, 'all', name, m));
  return `${rows.join('\n')}\n`;
}

/**
 * A sweep's curve: one row per point. Timing columns are `<metric>_p50_ms` and
 * `<metric>_p99_ms`, count columns `<metric>_per_second`, for every metric any point reported.
 */
export function renderSweepCsv(r: RunResult): string {
  const points = r.sweep?.points ?? [];
  const timings = [...new Set(points.flatMap((p) => Object.keys(p.timings)))].sort();
  const counts = [...new Set(points.flatMap((p) => Object.keys(p.perSecond)))].sort();
  const head = [
    'run_id', 'benchmark', 'point', 'rate', 'workers', 'requests', 'failed', 'dropped', 'duration_s', 'throughput', 'goodput',
    'p50_ms', 'p99_ms', 'p99_ms_failures_as_inf',
    ...timings.flatMap((t) => [`${t}_p50_ms`, `${t}_p99_ms`]),
    ...counts.map((c) => `${c}_per_second`),
    'slo_passed', 'kept_up', 'ended_by', 'primary',
  ];
  const rows = points.map((p) =>
    line([
      r.runId, r.benchmark, p.index, p.rate ?? '', p.workers ?? '', p.requests, p.failed, p.dropped, p.durationS, p.throughput, p.goodput ?? '',
      p.latencyP50Ms, p.latencyP99Ms, p.latencyP99MsWithFailures ?? 'inf',
      ...timings.flatMap((t) => [p.timings[t]?.p50 ?? '', p.timings[t]?.p99 ?? '']),
      ...counts.map((c) => p.perSecond[c] ?? ''),
      p.sloPassed ?? '', p.keptUp ?? '', p.endedBy, p.index === r.sweep?.primary,
    ]),
  );
  return [line(head), ...rows].join('\r\n') + '\r\n';
}
