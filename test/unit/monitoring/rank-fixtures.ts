// Test helper: writes runner rank files exactly as api/runner-contract.ts
// describes, with real HDR histograms, so the results layer is tested end to end.
import * as hdr from 'hdr-histogram-js';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { metricScale, type MetricDecl } from '../../../api/metrics.js';
import { rankFile, type OperationTotals, type RankHistograms, type RankSummary, type TimeSeriesRow } from '../../../api/runner-contract.js';

/** Declarations the fixtures know by name; pass `decls` for others. */
export const FIXTURE_DECLS: MetricDecl[] = [
  { name: 'bytes', kind: 'count', unit: 'bytes', help: 'bytes moved' },
  { name: 'ttft', kind: 'timing', unit: 'ms', help: 'time to first token', sinceSend: true },
  { name: 'outputTokens', kind: 'count', unit: 'tokens', help: 'generated tokens' },
  { name: 'recall', kind: 'value', unit: 'ratio', help: 'recall@k' },
];

export const newHistogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

export function histogramOf(valuesUs: number[]): hdr.Histogram {
  const h = newHistogram();
  for (const v of valuesUs) h.recordValue(v);
  return h;
}

/** Deterministic pseudo-random latencies (microseconds), log-spread so percentiles differ. */
export function latencies(seed: number, n: number, scaleUs = 1000): number[] {
  let s = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = (s + 1) / 2 ** 32;
    out.push(Math.max(1, Math.round(scaleUs * Math.exp(3 * u * u))));
  }
  return out;
}

export interface RankFixture {
  rank: number;
  runId?: string;
  startedAt?: string;
  measuredMs?: number;
  /** op -> latencies in microseconds */
  ops: Record<string, number[]>;
  /** op -> errors counted among that op's requests */
  errors?: Record<string, number>;
  errorsByReason?: Record<string, Record<string, number>>;
  /** op -> total bytes, recorded as one value of the `bytes` count metric. */
  bytes?: Record<string, number>;
  /** op -> metric -> values in the metric's unit (ms for timings). */
  metrics?: Record<string, Record<string, number[]>>;
  decls?: MetricDecl[];
  dropped?: number;
  sendLagUs?: number[];
  maxSendLagMs?: number;
  timeseries?: TimeSeriesRow[] | null;
  /** Leave out the "all" histogram, as an older runner might. */
  omitAll?: boolean;
  /** op -> requests within the SLO's per-request limits. */
  good?: Record<string, number>;
  stopReason?: RankSummary['stopReason'];
  verdicts?: RankSummary['verdicts'];
  /** Open loop: the rank's share of load.rate and the requests it sent in the measured window. */
  targetRate?: number;
  sent?: number;
}

export async function writeRank(dir: string, f: RankFixture): Promise<void> {
  await mkdir(dir, { recursive: true });
  const startedAt = f.startedAt ?? '2025-01-04T12:00:00.000Z';
  const measuredMs = f.measuredMs ?? 10_000;
  const operations: Record<string, OperationTotals> = {};
  const totals: RankSummary['totals'] = { requests: 0, errors: 0, errorsByReason: {}, dropped: f.dropped ?? 0 };
  const histograms: RankHistograms = { latency: {}, sendLag: '', metrics: {} };
  const decls = f.decls ?? FIXTURE_DECLS;
  const used = new Set<string>();
  const all = newHistogram();
  for (const [op, values] of Object.entries(f.ops)) {
    const reasons = f.errorsByReason?.[op] ?? {};
    const t: OperationTotals = { requests: values.length, errors: f.errors?.[op] ?? 0, errorsByReason: reasons, metrics: {}, ...(f.good ? { good: f.good[op] ?? 0 } : {}) };
    operations[op] = t;
    totals.requests += t.requests;
    totals.errors += t.errors;
    if (t.good !== undefined) totals.good = (totals.good ?? 0) + t.good;
    const samples: Record<string, number[]> = { ...(f.bytes?.[op] !== undefined ? { bytes: [f.bytes[op]] } : {}), ...f.metrics?.[op] };
    for (const [name, vs] of Object.entries(samples)) {
      const decl = decls.find((d) => d.name === name);
      if (!decl) throw new Error(`fixture: no declaration for metric ${name}`);
      used.add(name);
      const mh = histogramOf(vs.map((v) => Math.round(v * metricScale(decl.kind))));
      (histograms.metrics[op] ??= {})[name] = hdr.encodeIntoCompressedBase64(mh);
      t.metrics[name] = { count: vs.length, sum: vs.reduce((a, b) => a + b, 0) };
    }
    for (const [r, n] of Object.entries(reasons)) totals.errorsByReason[r] = (totals.errorsByReason[r] ?? 0) + n;
    const h = histogramOf(values);
    histograms.latency[op] = hdr.encodeIntoCompressedBase64(h);
    all.add(h);
  }
  if (!f.omitAll) histograms.latency.all = hdr.encodeIntoCompressedBase64(all);
  histograms.sendLag = hdr.encodeIntoCompressedBase64(histogramOf(f.sendLagUs ?? [50, 100, 150]));
  const start = Date.parse(startedAt);
  const summary: RankSummary = {
    rank: f.rank,
    runId: f.runId ?? 'run-1',
    startedAt,
    measureStartedAt: new Date(start + 1000).toISOString(),
    endedAt: new Date(start + 1000 + measuredMs).toISOString(),
    measuredMs,
    warmupMs: 1000,
    metrics: decls.filter((d) => used.has(d.name)),
    operations,
    totals,
    maxSendLagMs: f.maxSendLagMs ?? 0.15,
    stopReason: f.stopReason ?? 'duration',
    ...(f.verdicts ? { verdicts: f.verdicts } : {}),
    ...(f.targetRate !== undefined ? { targetRate: f.targetRate } : {}),
    ...(f.sent !== undefined ? { sent: f.sent } : {}),
  };
  await writeFile(join(dir, rankFile(f.rank, 'summary')), JSON.stringify(summary));
  await writeFile(join(dir, rankFile(f.rank, 'histograms')), JSON.stringify(histograms));
  if (f.timeseries !== null) await writeFile(join(dir, rankFile(f.rank, 'timeseries')), JSON.stringify(f.timeseries ?? []));
  await writeFile(join(dir, rankFile(f.rank, 'done')), JSON.stringify({ rank: f.rank, exitCode: 0, finishedAt: summary.endedAt }));
}

export const row = (second: number, requests: number, meanMs: number, p99Ms: number, extra: Partial<TimeSeriesRow> = {}): TimeSeriesRow => ({
  second,
  warmup: false,
  requests,
  errors: 0,
  meanMs,
  p50Ms: meanMs,
  p99Ms,
  maxMs: p99Ms,
  counts: {},
  ...extra,
});
