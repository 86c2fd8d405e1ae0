// Turns a run folder of per-rank result files into the one RunResult, and a
// RunResult into the short summary the status block shows.
import type * as hdr from 'hdr-histogram-js';
import { join } from 'node:path';
import { checkGenerator, type GeneratorCheck } from '../../api/generator.js';
import { INTERVAL_CONFIDENCE, metricScale, wilsonInterval, type MetricDecl } from '../../api/metrics.js';
import { rankFile, type MetricTotals, type OperationTotals } from '../../api/runner-contract.js';
import type { MetricSummary, ResultsSummary, Slo } from '../../api/schemas.js';
import { ResultsError } from './errors.js';
import { bucketsOf, decodeHistogram, emptyHistogram, latencyMsOf, percentilesOf, percentilesWithFailures, timingOf } from './histograms.js';
import type { MetricStats, OperationResult, PercentilesWithFailures, RunResult, TimeSeriesPoint } from './model.js';
import { listRanks, readDone, readRank, type RankFiles } from './rank-files.js';
import { evaluateSlo } from './slo.js';
import { mergeTimeSeries } from './timeseries.js';

export { ResultsError } from './errors.js';

export interface RunMeta {
  runId: string;
  benchmark: string;
  generation: number;
  attempt: number;
  /** Name for the guide's per-service block; defaults to the benchmark name. */
  service?: string;
  slo?: Slo;
}

/** The latency key that is not an operation. */
const ALL = 'all';

type Totals = Omit<OperationTotals, 'metrics'>;
const emptyTotals = (): Totals => ({ requests: 0, errors: 0, errorsByReason: {} });

function addTotals(into: Totals, from: Totals): void {
  into.requests += from.requests;
  into.errors += from.errors;
  if (from.good !== undefined) into.good = (into.good ?? 0) + from.good;
  for (const [reason, n] of Object.entries(from.errorsByReason)) into.errorsByReason[reason] = (into.errorsByReason[reason] ?? 0) + n;
}

/** One declared metric merged across ranks: its histogram (HDR units) and exact totals. */
interface MetricAcc {
  decl: MetricDecl;
  histogram: hdr.Histogram;
  count: number;
  sum: number;
}

/** name -> merged metric; made on first sight of a name. */
class MetricSet {
  readonly byName = new Map<string, MetricAcc>();

  acc(decl: MetricDecl): MetricAcc {
    let a = this.byName.get(decl.name);
    if (!a) this.byName.set(decl.name, (a = { decl, histogram: emptyHistogram(), count: 0, sum: 0 }));
    return a;
  }

  stats(durationS: number, peaks?: Record<string, number>): Record<string, MetricStats> {
    const out: Record<string, MetricStats> = {};
    for (const [name, a] of [...this.byName].sort(([x], [y]) => x.localeCompare(y))) {
      out[name] = metricStats(a, durationS);
      if (a.decl.kind === 'count' && peaks) out[name].peakPerSecond = peaks[name] ?? 0;
    }
    return out;
  }

  /** Each timing's percentiles with `failures` requests counted as infinitely slow. */
  withFailures(failures: number): Record<string, PercentilesWithFailures> {
    const out: Record<string, PercentilesWithFailures> = {};
    for (const [name, a] of this.byName) if (a.decl.kind === 'timing') out[name] = percentilesWithFailures(a.histogram, failures, metricScale('timing'));
    return out;
  }
}

function metricStats(a: MetricAcc, durationS: number): MetricStats {
  const h = a.histogram;
  const scale = metricScale(a.decl.kind);
  const at = (p: number) => (h.totalCount === 0 ? 0 : h.getValueAtPercentile(p) / scale);
  return {
    kind: a.decl.kind,
    unit: a.decl.unit,
    help: a.decl.help,
    count: a.count,
    sum: a.sum,
    perSecond: perSecond(a.sum, durationS),
    // The exact sum beats the histogram's bucket-rounded mean.
    mean: a.count > 0 ? a.sum / a.count : 0,
    min: at(0),
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: h.totalCount === 0 ? 0 : h.maxValue / scale,
    stddev: h.totalCount === 0 ? 0 : h.stdDeviation / scale,
    ...(a.decl.kind === 'timing' ? { buckets: bucketsOf(h) } : {}),
    ...(a.decl.interval === 'wilson' && a.count > 0 ? { interval: { method: 'wilson' as const, confidence: INTERVAL_CONFIDENCE, n: a.count, ...wilsonInterval(a.sum / a.count, a.count) } } : {}),
  };
}

const percent = (part: number, whole: number) => (whole > 0 ? (part / whole) * 100 : 0);
const perSecond = (n: number, seconds: number) => (seconds > 0 ? n / seconds : 0);

function timeOf(iso: string, file: string): number {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new ResultsError(`corrupt result file ${file}: "${iso}" is not an ISO timestamp; rerun the benchmark`, { file });
  return t;
}

function operationResult(totals: Totals, h: hdr.Histogram, metrics: MetricSet | undefined, durationS: number): OperationResult {
  const successful = totals.requests - totals.errors;
  return {
    total_requests: totals.requests,
    successful,
    failed: totals.errors,
    throughput: perSecond(successful, durationS),
    success_rate: percent(successful, totals.requests),
    timing: timingOf(h),
    percentiles: percentilesOf(h),
    latencyMs: latencyMsOf(h),
    buckets: bucketsOf(h),
    errors: totals.errorsByReason,
    ...(totals.good !== undefined ? { good: totals.good, goodput: perSecond(totals.good, durationS) } : {}),
    metrics: metrics?.stats(durationS) ?? {},
  };
}

/** The largest per-second sum of each count metric over the measured seconds. */
function peaksOf(rows: TimeSeriesPoint[]): Record<string, number> {
  const peaks: Record<string, number> = {};
  for (const row of rows) {
    if (row.warmup) continue;
    for (const [name, n] of Object.entries(row.counts)) peaks[name] = Math.max(peaks[name] ?? 0, n);
  }
  return peaks;
}

/** How together the ranks ran: the spread of their starts, and the first and last to finish. */
function ranksInStepOf(ranks: RankFiles[]): NonNullable<RunResult['ranksInStep']> {
  const starts = ranks.map((r) => Date.parse(r.summary.startedAt));
  const ends = ranks.map((r) => Date.parse(r.summary.endedAt));
  return {
    startSkewMs: Math.max(...starts) - Math.min(...starts),
    firstDoneAt: new Date(Math.min(...ends)).toISOString(),
    lastDoneAt: new Date(Math.max(...ends)).toISOString(),
    stonewalled: ranks.filter((r) => r.summary.stopReason === 'stonewall').length,
  };
}

/** One phrase for why the ranks ended: their reasons, each once. */
function endedByOf(ranks: RankFiles[]): string {
  return [...new Set(ranks.map((r) => r.summary.stopReason))].sort().join(', ');
}

/** Adds every latency histogram of one rank into the merged ones; "all" is rebuilt from ops when a rank lacks it. */
function mergeRankLatency(rank: RankFiles, ops: Map<string, hdr.Histogram>, all: hdr.Histogram, sendLag: hdr.Histogram): void {
  const { latency } = rank.histograms;
  for (const [key, encoded] of Object.entries(latency)) {
    const h = decodeHistogram(encoded, rank.histogramsFile, key);
    if (key === ALL) {
      all.add(h);
      continue;
    }
    let merged = ops.get(key);
    if (!merged) ops.set(key, (merged = emptyHistogram()));
    merged.add(h);
    if (latency[ALL] === undefined) all.add(h);
  }
  sendLag.add(decodeHistogram(rank.histograms.sendLag, rank.histogramsFile, 'sendLag'));
}

/** Adds one rank's declared metrics (histograms and exact totals) per operation and over all operations. */
function mergeRankMetrics(rank: RankFiles, byOp: Map<string, MetricSet>, all: MetricSet, warnings: string[]): void {
  const decls = new Map(rank.summary.metrics.map((d) => [d.name, d]));
  for (const [op, byName] of Object.entries(rank.histograms.metrics)) {
    for (const [name, encoded] of Object.entries(byName)) {
      const decl = decls.get(name);
      if (!decl) {
        warnings.push(`rank ${rank.rank} recorded metric "${name}" that its summary does not declare; it is left out`);
        continue;
      }
      const h = decodeHistogram(encoded, rank.histogramsFile, `${op}.${name}`);
      const totals: MetricTotals = rank.summary.operations[op]?.metrics[name] ?? { count: h.totalCount, sum: h.mean * h.totalCount / metricScale(decl.kind) };
      let set = byOp.get(op);
      if (!set) byOp.set(op, (set = new MetricSet()));
      for (const a of [set.acc(decl), all.acc(decl)]) {
        a.histogram.add(h);
        a.count += totals.count;
        a.sum += totals.sum;
      }
    }
  }
}

/**
 * Reads every rank in runDir that left a summary and merges them. Histograms
 * are added bucket by bucket, so merged percentiles equal those of one
 * histogram holding every request. Throws ResultsError when no rank left a
 * summary or a rank's files are missing or corrupt.
 */
export async function collectRun(runDir: string, meta: RunMeta): Promise<RunResult> {
  const { all: present, withSummary } = await listRanks(runDir);
  if (withSummary.length === 0) {
    throw new ResultsError(
      present.length === 0
        ? `no runner results in ${runDir}: no rank-<N>.summary.json found; the runner did not start or wrote elsewhere; check the runner's log`
        : `no rank left a summary in ${runDir} (ranks seen: ${present.join(', ')}); the runner failed before finishing; check rank-<N>.done.json and the runner's log`,
      { file: runDir },
    );
  }
  const warnings: string[] = [];
  for (const r of present.filter((r) => !withSummary.includes(r))) {
    const done = await readDone(runDir, r);
    warnings.push(
      `rank ${r} left no summary${done ? ` (exit code ${done.exitCode}${done.reason ? `: ${done.reason}` : ''})` : ''}; its requests are not counted`,
    );
  }

  const ranks: RankFiles[] = [];
  for (const r of withSummary) ranks.push(await readRank(runDir, r));

  const totals = { ...emptyTotals(), dropped: 0 };
  const opTotals = new Map<string, Totals>();
  const opMetrics = new Map<string, MetricSet>();
  const allMetrics = new MetricSet();
  const opHists = new Map<string, hdr.Histogram>();
  const allHist = emptyHistogram();
  const lagHist = emptyHistogram();
  let durationS = 0;
  let startMs = Infinity;
  let endMs = -Infinity;
  let maxSendLagMs = 0;
  for (const rank of ranks) {
    const s = rank.summary;
    const summaryFile = join(runDir, rankFile(rank.rank, 'summary'));
    addTotals(totals, s.totals);
    totals.dropped += s.totals.dropped;
    for (const [op, t] of Object.entries(s.operations)) {
      let acc = opTotals.get(op);
      if (!acc) opTotals.set(op, (acc = emptyTotals()));
      addTotals(acc, t);
    }
    mergeRankLatency(rank, opHists, allHist, lagHist);
    mergeRankMetrics(rank, opMetrics, allMetrics, warnings);
    durationS = Math.max(durationS, s.measuredMs / 1000);
    startMs = Math.min(startMs, timeOf(s.startedAt, summaryFile));
    endMs = Math.max(endMs, timeOf(s.endedAt, summaryFile));
    maxSendLagMs = Math.max(maxSendLagMs, s.maxSendLagMs);
    if (rank.timeseries.length === 0) warnings.push(`rank ${rank.rank} left no time series; per-second rows lack its requests`);
    if (s.runId !== meta.runId) warnings.push(`rank ${rank.rank} reports runId ${s.runId}, expected ${meta.runId}; is the run folder shared between runs?`);
  }

  const operations: Record<string, OperationResult> = {};
  for (const op of [...new Set([...opTotals.keys(), ...opHists.keys()])].sort()) {
    operations[op] = operationResult(opTotals.get(op) ?? emptyTotals(), opHists.get(op) ?? emptyHistogram(), opMetrics.get(op), durationS);
  }

  const successful = totals.requests - totals.errors;
  const latencyMs = latencyMsOf(allHist);
  const timing = timingOf(allHist);
  const timeseries = mergeTimeSeries(ranks.map((r) => ({ startedAtMs: Date.parse(r.summary.startedAt), rows: r.timeseries })));
  const throughput = perSecond(successful, durationS);
  const successRate = percent(successful, totals.requests);
  const result: RunResult = {
    runId: meta.runId,
    benchmark: meta.benchmark,
    generation: meta.generation,
    attempt: meta.attempt,
    startedAt: new Date(startMs).toISOString(),
    completedAt: new Date(endMs).toISOString(),
    ranks: ranks.length,
    durationS,
    summary: {
      total_requests: totals.requests,
      successful_requests: successful,
      failed_requests: totals.errors,
      dropped_requests: totals.dropped,
      success_rate: successRate,
      total_duration: durationS,
      throughput,
    },
    timing,
    percentiles: percentilesOf(allHist),
    latencyMs,
    buckets: bucketsOf(allHist),
    operations,
    metrics: allMetrics.stats(durationS, peaksOf(timeseries)),
    services: {
      [meta.service ?? meta.benchmark]: { total_requests: totals.requests, success_rate: successRate, throughput, timing },
    },
    sendLag: {
      p50Ms: lagHist.totalCount > 0 ? lagHist.getValueAtPercentile(50) / 1000 : 0,
      p99Ms: lagHist.totalCount > 0 ? lagHist.getValueAtPercentile(99) / 1000 : 0,
      // The summary's max is exact; the histogram's is rounded to its precision.
      maxMs: Math.max(maxSendLagMs, lagHist.maxValue / 1000),
    },
    timeseries,
    withFailures: {
      failedShare: totals.requests > 0 ? totals.errors / totals.requests : 0,
      latencyMs: percentilesWithFailures(allHist, totals.errors, 1000),
      metrics: allMetrics.withFailures(totals.errors),
    },
    ...(totals.good !== undefined ? { goodput: { good: totals.good, perSecond: perSecond(totals.good, durationS) } } : {}),
    endedBy: endedByOf(ranks),
    ...(ranks.length > 1 ? { ranksInStep: ranksInStepOf(ranks) } : {}),
    ...(ranks.length === 1 && ranks[0].summary.verdicts ? { verdicts: ranks[0].summary.verdicts } : {}),
    warnings,
  };
  const generator = generatorOf(ranks, result);
  if (generator) {
    result.generator = generator;
    if (generator.why) warnings.push(generator.why);
  }
  if (meta.slo) {
    result.slo = evaluateSlo(
      meta.slo,
      { latencyMs, errorRate: errorRateOf(result), throughput, withFailures: result.withFailures, goodput: result.goodput?.perSecond },
      totals.requests,
    );
  }
  return result;
}

/** Open loop: whether the ranks together sent what load.rate asked, on time; undefined for a closed loop. */
function generatorOf(ranks: RankFiles[], result: RunResult): GeneratorCheck | undefined {
  if (!ranks.some((r) => r.summary.targetRate !== undefined)) return undefined;
  return checkGenerator({
    targetRate: ranks.reduce((sum, r) => sum + (r.summary.targetRate ?? 0), 0),
    // Older runners wrote no `sent`: the answered requests are the closest count.
    sent: ranks.reduce((sum, r) => sum + (r.summary.sent ?? r.summary.totals.requests), 0),
    measuredS: result.durationS,
    sendLagP99Ms: result.sendLag.p99Ms,
    dropped: result.summary.dropped_requests,
  });
}

/** Failed / total as a fraction 0..1 (dropped arrivals are reported apart, not counted here). */
export function errorRateOf(result: RunResult): number {
  const { total_requests, failed_requests } = result.summary;
  return total_requests > 0 ? failed_requests / total_requests : 0;
}

/** The short form for a Benchmark's status.results. */
export function summarize(result: RunResult): ResultsSummary {
  const l = result.latencyMs;
  const reasons = topReasons(result);
  return {
    requests: result.summary.total_requests,
    errors: result.summary.failed_requests,
    errorRate: errorRateOf(result),
    durationS: result.durationS,
    // Status is for people: three decimals say all a throughput needs to.
    throughput: round3(result.summary.throughput),
    meanMs: round3(l.mean),
    p50Ms: l.p50,
    p90Ms: l.p90,
    p95Ms: l.p95,
    p99Ms: l.p99,
    p999Ms: l.p999,
    maxMs: l.max,
    ...(result.slo ? { sloPassed: result.slo.passed } : {}),
    ...(Object.keys(result.metrics).length > 0 ? { metrics: metricSummaries(result.metrics, result.withFailures.metrics) } : {}),
    p99MsWithFailures: result.withFailures.latencyMs.p99,
    ...(result.goodput ? { goodput: round3(result.goodput.perSecond) } : {}),
    endedBy: result.endedBy,
    ...(Object.keys(reasons).length > 0 ? { errorReasons: reasons } : {}),
    ...(result.sendLag.p99Ms > 0 ? { sendLagP99Ms: round3(result.sendLag.p99Ms) } : {}),
    ...(result.generator ? { generator: result.generator } : {}),
    ...(result.sweep ? { sweep: sweepSummary(result.sweep) } : {}),
    ...(result.ranksInStep ? { startSkewMs: result.ranksInStep.startSkewMs } : {}),
  };
}

function sweepSummary(sweep: NonNullable<RunResult['sweep']>): NonNullable<ResultsSummary['sweep']> {
  const p = sweep.points.find((x) => x.index === sweep.primary);
  const at = p?.rate !== undefined ? `${p.rate} req/s` : p?.workers !== undefined ? `${p.workers} workers` : '';
  return { points: sweep.points.length, ended: sweep.ended, primary: sweep.primary, at };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** The five most frequent error reasons over every operation. */
function topReasons(result: RunResult): Record<string, number> {
  const all: Record<string, number> = {};
  for (const op of Object.values(result.operations)) for (const [reason, n] of Object.entries(op.errors)) all[reason] = (all[reason] ?? 0) + n;
  return Object.fromEntries(
    Object.entries(all)
      .sort(([, a], [, b]) => b - a)
      .slice(0, 5),
  );
}

function metricSummaries(metrics: Record<string, MetricStats>, withFailures: Record<string, PercentilesWithFailures>): Record<string, MetricSummary> {
  const out: Record<string, MetricSummary> = {};
  for (const [name, m] of Object.entries(metrics)) {
    const p99f = withFailures[name]?.p99;
    out[name] = {
      unit: m.unit,
      mean: round3(m.mean),
      p50: round3(m.p50),
      p99: round3(m.p99),
      ...(m.kind === 'count' ? { sum: m.sum, perSecond: round3(m.perSecond), peakPerSecond: m.peakPerSecond ?? 0 } : {}),
      ...(m.kind === 'timing' && p99f !== undefined ? { p99WithFailures: p99f === null ? null : round3(p99f) } : {}),
    };
  }
  return out;
}
