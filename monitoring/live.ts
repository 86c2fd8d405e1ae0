// The live series of a running benchmark, from its runners' progress lines:
// cumulative counts of the measured window so far, under the same names and
// labels as the finished run's report, so one PromQL query reads both.
import { BUCKET_BOUNDS_S, type LiveMetric, type LiveOperation } from '../api/runner-contract.js';
import { Exposition, histogramSamples, workloadFamily, type Labels, type Sample } from './exposition.js';

export type LiveOperations = Record<string, LiveOperation>;

type Counts = LiveOperation['latency'];

function addCounts(a: Counts | undefined, b: Counts): Counts {
  if (!a) return { counts: [...b.counts], count: b.count, sumSeconds: b.sumSeconds };
  return { counts: a.counts.map((c, i) => c + (b.counts[i] ?? 0)), count: a.count + b.count, sumSeconds: a.sumSeconds + b.sumSeconds };
}

function addMetric(a: LiveMetric | undefined, b: LiveMetric): LiveMetric {
  const buckets = b.buckets ? addCounts(a?.buckets, b.buckets) : a?.buckets;
  return { kind: b.kind, count: (a?.count ?? 0) + b.count, sum: (a?.sum ?? 0) + b.sum, ...(buckets ? { buckets } : {}) };
}

/** Sums operations across ranks (each rank reports its own cumulative counts), or across operations for "all". */
export function mergeLive(parts: Iterable<LiveOperations>): LiveOperations {
  const out: LiveOperations = {};
  for (const part of parts) {
    for (const [op, o] of Object.entries(part)) {
      const acc = out[op];
      const metrics: Record<string, LiveMetric> = { ...(acc?.metrics ?? {}) };
      for (const [name, m] of Object.entries(o.metrics)) metrics[name] = addMetric(metrics[name], m);
      out[op] = { requests: (acc?.requests ?? 0) + o.requests, errors: (acc?.errors ?? 0) + o.errors, latency: addCounts(acc?.latency, o.latency), metrics };
    }
  }
  return out;
}

export interface LiveRun {
  benchmark: string;
  service: string;
  run: string;
  operations: LiveOperations;
}

/**
 * Counters and histograms per operation and for operation="all", as the
 * report names them (benchmark_requests_total, benchmark_request_duration_seconds,
 * benchmark_<metric>_seconds/_total, value metrics as a summary without quantiles).
 */
export function renderLive(runs: Iterable<LiveRun>): string {
  const requests: Sample[] = [];
  const successful: Sample[] = [];
  const failed: Sample[] = [];
  const latency: Sample[] = [];
  const metrics = new Map<string, { kind: LiveMetric['kind']; samples: Sample[] }>();
  for (const run of runs) {
    const all = mergeLive(Object.values(run.operations).map((o) => ({ all: o })));
    for (const [op, o] of [...Object.entries(run.operations), ...Object.entries(all)]) {
      const labels: Labels = { benchmark: run.benchmark, service: run.service, run: run.run, operation: op };
      requests.push(['', labels, o.requests]);
      successful.push(['', labels, o.requests - o.errors]);
      failed.push(['', labels, o.errors]);
      latency.push(...histogramSamples(labels, BUCKET_BOUNDS_S, o.latency));
      for (const [name, m] of Object.entries(o.metrics)) {
        const family = workloadFamily(name, m.kind);
        if (!metrics.has(family)) metrics.set(family, { kind: m.kind, samples: [] });
        const samples = metrics.get(family)!.samples;
        if (m.kind === 'timing' && m.buckets) samples.push(...histogramSamples(labels, BUCKET_BOUNDS_S, m.buckets));
        else if (m.kind === 'count') samples.push(['', labels, m.sum]);
        else if (m.kind === 'value') samples.push(['_sum', labels, m.sum], ['_count', labels, m.count]);
      }
    }
  }
  const x = new Exposition();
  x.family('benchmark_requests_total', 'counter', 'Requests sent in the measured window, failures included.', requests);
  x.family('benchmark_requests_successful', 'counter', 'Requests that succeeded.', successful);
  x.family('benchmark_requests_failed', 'counter', 'Requests that failed.', failed);
  x.family('benchmark_request_duration_seconds', 'histogram', 'Request latency from the intended send time, seconds.', latency);
  const TYPE = { timing: 'histogram', count: 'counter', value: 'summary' } as const;
  for (const [family, { kind, samples }] of metrics) x.family(family, TYPE[kind], `A declared ${kind} metric of the workload, measured window so far.`, samples);
  return x.text();
}
