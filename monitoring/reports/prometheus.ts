// Prometheus text exposition (format 0.0.4) of a finished run, with the guide's
// metric names, for a .prom file, node_exporter's textfile collector or Pushgateway.
import { Exposition, histogramSamples as samplesAt, snakeCase, workloadFamily, type Labels, type Sample } from '../exposition.js';
import type { Buckets, LatencyMs, MetricStats, RunResult } from '../results/model.js';

export { snakeCase };

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

/** Every series of a run carries these: the benchmark, its service and the run (a new run replaces the old in a Pushgateway group). */
export function runLabels(r: Pick<RunResult, 'benchmark' | 'runId' | 'services'>): Labels {
  return { benchmark: r.benchmark, service: Object.keys(r.services)[0] ?? r.benchmark, run: r.runId };
}

/**
 * One series per operation plus operation="all" for the whole run; exclude
 * operation="all" when summing over operations. Histogram buckets come from the
 * merged HDR histogram; the quantile gauge carries its exact percentiles.
 */
export function renderPrometheus(r: RunResult): string {
  const run = runLabels(r);
  const series: Series[] = [
    ...Object.entries(r.operations).map(([op, o]) => ({
      labels: { ...run, operation: op },
      total: o.total_requests,
      successful: o.successful,
      failed: o.failed,
      buckets: o.buckets,
      latencyMs: o.latencyMs,
    })),
    {
      labels: { ...run, operation: 'all' },
      total: r.summary.total_requests,
      successful: r.summary.successful_requests,
      failed: r.summary.failed_requests,
      buckets: r.buckets,
      latencyMs: r.latencyMs,
    },
  ];
  const x = new Exposition();
  x.family('benchmark_requests_total', 'counter', 'Requests sent in the measured window, failures included.', series.map((s) => ['', s.labels, s.total]));
  x.family('benchmark_requests_successful', 'counter', 'Requests that succeeded.', series.map((s) => ['', s.labels, s.successful]));
  x.family('benchmark_requests_failed', 'counter', 'Requests that failed.', series.map((s) => ['', s.labels, s.failed]));
  x.family('benchmark_requests_dropped', 'counter', 'Open-loop arrivals refused by the concurrency cap (never sent).', [['', run, r.summary.dropped_requests]]);
  x.family(
    'benchmark_request_duration_seconds',
    'histogram',
    'Request latency from the intended send time, seconds.',
    series.flatMap((s) => histogramSamples(s.labels, s.buckets)),
  );
  x.family(
    'benchmark_request_duration_quantile_seconds',
    'gauge',
    'Exact latency quantiles of the run from the merged HDR histogram, seconds.',
    series.flatMap((s) => QUANTILES.map(([q, key]): Sample => ['', { ...s.labels, quantile: q }, s.latencyMs[key] / 1000])),
  );
  x.family('benchmark_throughput_requests_per_second', 'gauge', 'Successful requests per second of the measured window.', [['', run, r.summary.throughput]]);
  x.family('benchmark_success_rate_percent', 'gauge', 'Successful requests as a percent of requests sent.', [['', run, r.summary.success_rate]]);
  x.family('benchmark_duration_seconds', 'gauge', 'Measured window (warmup excluded), seconds.', [['', run, r.durationS]]);
  x.family('benchmark_send_lag_seconds', 'gauge', 'Lag between intended and actual send time, seconds.', [
    ['', { ...run, quantile: '0.5' }, r.sendLag.p50Ms / 1000],
    ['', { ...run, quantile: '0.99' }, r.sendLag.p99Ms / 1000],
    ['', { ...run, quantile: '1' }, r.sendLag.maxMs / 1000],
  ]);
  if (r.generator) {
    x.family('benchmark_generator_kept_up', 'gauge', '1 when the open-loop generator sent at least 99% of the target rate with a send-lag p99 under 1 ms, else 0: with 0 the numbers may describe the client.', [
      ['', run, r.generator.keptUp ? 1 : 0],
    ]);
    x.family('benchmark_generator_target_requests_per_second', 'gauge', 'Open loop: the rate load.rate asked for.', [['', run, r.generator.targetRate]]);
    x.family('benchmark_generator_sent_requests_per_second', 'gauge', 'Open loop: the rate requests were sent at in the measured window.', [['', run, r.generator.achievedRate]]);
  }
  if (r.slo) x.family('benchmark_slo_passed', 'gauge', '1 when every SLO check passed, else 0.', [['', run, r.slo.passed ? 1 : 0]]);
  if (r.goodput) x.family('benchmark_goodput_requests_per_second', 'gauge', 'Successful requests within every per-request SLO limit, per second.', [['', run, r.goodput.perSecond]]);
  x.family('benchmark_failed_share', 'gauge', 'Failed requests as a fraction of requests sent (MLPerf-style percentiles count them as infinitely slow).', [
    ['', run, r.withFailures.failedShare],
  ]);
  workloadMetrics(x, r);
  return x.text();
}

/**
 * Each declared metric, per operation and for operation="all": timings as a
 * `benchmark_<name>_seconds` histogram plus exact quantiles, counts as a
 * `benchmark_<name>_total` counter, values as a `benchmark_<name>` summary.
 */
function workloadMetrics(x: Exposition, r: RunResult): void {
  const byName = new Map<string, [Labels, MetricStats][]>();
  const add = (operation: string, metrics: Record<string, MetricStats>) => {
    for (const [name, m] of Object.entries(metrics)) {
      if (!byName.has(name)) byName.set(name, []);
      byName.get(name)!.push([{ ...runLabels(r), operation }, m]);
    }
  };
  for (const [op, o] of Object.entries(r.operations)) add(op, o.metrics);
  add('all', r.metrics);
  for (const [name, series] of byName) {
    const { kind, help, unit } = series[0][1];
    const base = `benchmark_${snakeCase(name)}`;
    const quantiles = (scale: number) =>
      series.flatMap(([labels, m]) => QUANTILES.map(([q, key]): Sample => ['', { ...labels, quantile: q }, (m[key as keyof MetricStats] as number) * scale]));
    if (kind === 'timing') {
      x.family(
        `${base}_seconds`,
        'histogram',
        `${help}, seconds.`,
        series.flatMap(([labels, m]) => (m.buckets ? histogramSamples(labels, m.buckets) : [])),
      );
      x.family(`${base}_quantile_seconds`, 'gauge', `Exact quantiles of ${name} from the merged HDR histogram, seconds.`, quantiles(1 / 1000));
    } else if (kind === 'count') {
      x.family(`${base}_total`, 'counter', `${help} (${unit}), summed over the measured window.`, series.map(([labels, m]): Sample => ['', labels, m.sum]));
      const peaks = series.filter(([, m]) => m.peakPerSecond !== undefined);
      if (peaks.length > 0) x.family(`${base}_peak_per_second`, 'gauge', `${help} (${unit}) in the busiest second of the measured window.`, peaks.map(([labels, m]): Sample => ['', labels, m.peakPerSecond!]));
    } else {
      // A summary: quantiles from the HDR histogram, plus _sum and _count, so sum/count is the exact mean live and after.
      x.family(workloadFamily(name, kind), 'summary', `${help} (${unit}) over the requests.`, [
        ...quantiles(1),
        ...series.flatMap(([labels, m]): Sample[] => [
          ['_sum', labels, m.sum],
          ['_count', labels, m.count],
        ]),
      ]);
    }
  }
}

function histogramSamples(labels: Labels, b: Buckets): Sample[] {
  return samplesAt(labels, b.le, b);
}
