// Prometheus text exposition (format 0.0.4) of a finished run, with the guide's
// metric names, for a .prom file, node_exporter's textfile collector or Pushgateway.
import type { Buckets, LatencyMs, RunResult } from '../results/model.js';

type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function value(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

class Exposition {
  private readonly lines: string[] = [];
  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string, samples: [suffix: string, labels: Labels, v: number][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [suffix, labels, v] of samples) this.lines.push(`${name}${suffix}${labelText(labels)} ${value(v)}`);
  }
  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

interface Series {
  labels: Labels;
  total: number;
  successful: number;
  failed: number;
  buckets: Buckets;
  latencyMs: LatencyMs;
}

const QUANTILES: [string, keyof LatencyMs][] = [
  ['0.5', 'p50'],
  ['0.9', 'p90'],
  ['0.95', 'p95'],
  ['0.99', 'p99'],
  ['0.999', 'p999'],
];

/**
 * One series per operation plus operation="all" for the whole run; exclude
 * operation="all" when summing over operations. Histogram buckets come from the
 * merged HDR histogram; the quantile gauge carries its exact percentiles.
 */
export function renderPrometheus(r: RunResult): string {
  const benchmark = r.benchmark;
  const series: Series[] = [
    ...Object.entries(r.operations).map(([op, o]) => ({
      labels: { benchmark, operation: op },
      total: o.total_requests,
      successful: o.successful,
      failed: o.failed,
      buckets: o.buckets,
      latencyMs: o.latencyMs,
    })),
    {
      labels: { benchmark, operation: 'all' },
      total: r.summary.total_requests,
      successful: r.summary.successful_requests,
      failed: r.summary.failed_requests,
      buckets: r.buckets,
      latencyMs: r.latencyMs,
    },
  ];
  const run = { benchmark };
  const x = new Exposition();
  x.family('benchmark_requests_total', 'counter', 'Requests sent in the measured window, failures included.', series.map((s) => ['', s.labels, s.total]));
  x.family('benchmark_requests_successful', 'counter', 'Requests that succeeded.', series.map((s) => ['', s.labels, s.successful]));
  x.family('benchmark_requests_failed', 'counter', 'Requests that failed.', series.map((s) => ['', s.labels, s.failed]));
  x.family('benchmark_requests_dropped', 'counter', 'Open-loop arrivals refused by the concurrency cap (never sent).', [['', run, r.summary.dropped_requests]]);
  x.family(
    'benchmark_request_duration_seconds',
    'histogram',
    'Request latency from the intended send time, seconds.',
    series.flatMap((s) => [
      ...s.buckets.le.map((le, i): [string, Labels, number] => ['_bucket', { ...s.labels, le: String(le) }, s.buckets.counts[i]]),
      ['_bucket', { ...s.labels, le: '+Inf' }, s.buckets.count],
      ['_sum', s.labels, s.buckets.sumSeconds],
      ['_count', s.labels, s.buckets.count],
    ]),
  );
  x.family(
    'benchmark_request_duration_quantile_seconds',
    'gauge',
    'Exact latency quantiles of the run from the merged HDR histogram, seconds.',
    series.flatMap((s) => QUANTILES.map(([q, key]): [string, Labels, number] => ['', { ...s.labels, quantile: q }, s.latencyMs[key] / 1000])),
  );
  x.family('benchmark_throughput_requests_per_second', 'gauge', 'Successful requests per second of the measured window.', [['', run, r.summary.throughput]]);
  x.family('benchmark_success_rate_percent', 'gauge', 'Successful requests as a percent of requests sent.', [['', run, r.summary.success_rate]]);
  x.family('benchmark_duration_seconds', 'gauge', 'Measured window (warmup excluded), seconds.', [['', run, r.durationS]]);
  x.family('benchmark_send_lag_seconds', 'gauge', 'Lag between intended and actual send time, seconds.', [
    ['', { ...run, quantile: '0.5' }, r.sendLag.p50Ms / 1000],
    ['', { ...run, quantile: '0.99' }, r.sendLag.p99Ms / 1000],
    ['', { ...run, quantile: '1' }, r.sendLag.maxMs / 1000],
  ]);
  if (r.slo) x.family('benchmark_slo_passed', 'gauge', '1 when every SLO check passed, else 0.', [['', run, r.slo.passed ? 1 : 0]]);
  return x.text();
}
