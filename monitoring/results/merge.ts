// Turns a run folder of per-rank result files into the one RunResult, and a
// RunResult into the short summary the status block shows.
import type * as hdr from 'hdr-histogram-js';
import type { ResultsSummary, Slo } from '../../api/schemas.js';
import { join } from 'node:path';
import { rankFile, type OperationTotals } from '../../api/runner-contract.js';
import { ResultsError } from './errors.js';
import { bucketsOf, decodeHistogram, emptyHistogram, latencyMsOf, percentilesOf, timingOf } from './histograms.js';
import type { OperationResult, RunResult } from './model.js';
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

/** Histogram keys that are not operations. */
const ALL = 'all';
const SEND_LAG = 'sendLag';

const emptyTotals = (): OperationTotals => ({ requests: 0, errors: 0, bytes: 0, errorsByReason: {} });

function addTotals(into: OperationTotals, from: OperationTotals): void {
  into.requests += from.requests;
  into.errors += from.errors;
  into.bytes += from.bytes;
  for (const [reason, n] of Object.entries(from.errorsByReason)) into.errorsByReason[reason] = (into.errorsByReason[reason] ?? 0) + n;
}

const percent = (part: number, whole: number) => (whole > 0 ? (part / whole) * 100 : 0);
const perSecond = (n: number, seconds: number) => (seconds > 0 ? n / seconds : 0);

function timeOf(iso: string, file: string): number {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new ResultsError(`corrupt result file ${file}: "${iso}" is not an ISO timestamp; rerun the benchmark`, { file });
  return t;
}

function operationResult(totals: OperationTotals, h: hdr.Histogram, durationS: number): OperationResult {
  const successful = totals.requests - totals.errors;
  return {
    total_requests: totals.requests,
    successful,
    failed: totals.errors,
    bytes: totals.bytes,
    throughput: perSecond(successful, durationS),
    success_rate: percent(successful, totals.requests),
    timing: timingOf(h),
    percentiles: percentilesOf(h),
    latencyMs: latencyMsOf(h),
    buckets: bucketsOf(h),
    errors: totals.errorsByReason,
  };
}

/** Adds every histogram of one rank into the merged ones; "all" is rebuilt from ops when a rank lacks it. */
function mergeRankHistograms(rank: RankFiles, ops: Map<string, hdr.Histogram>, all: hdr.Histogram, sendLag: hdr.Histogram): void {
  let sawAll = false;
  const rankOps: hdr.Histogram[] = [];
  for (const [key, encoded] of Object.entries(rank.histograms)) {
    const h = decodeHistogram(encoded, rank.histogramsFile, key);
    if (key === ALL) {
      all.add(h);
      sawAll = true;
    } else if (key === SEND_LAG) {
      sendLag.add(h);
    } else {
      let merged = ops.get(key);
      if (!merged) ops.set(key, (merged = emptyHistogram()));
      merged.add(h);
      rankOps.push(h);
    }
  }
  if (!sawAll) for (const h of rankOps) all.add(h);
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
  const opTotals = new Map<string, OperationTotals>();
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
    mergeRankHistograms(rank, opHists, allHist, lagHist);
    durationS = Math.max(durationS, s.measuredMs / 1000);
    startMs = Math.min(startMs, timeOf(s.startedAt, summaryFile));
    endMs = Math.max(endMs, timeOf(s.endedAt, summaryFile));
    maxSendLagMs = Math.max(maxSendLagMs, s.maxSendLagMs);
    if (rank.timeseries.length === 0) warnings.push(`rank ${rank.rank} left no time series; per-second rows lack its requests`);
    if (s.runId !== meta.runId) warnings.push(`rank ${rank.rank} reports runId ${s.runId}, expected ${meta.runId}; is the run folder shared between runs?`);
  }

  const operations: Record<string, OperationResult> = {};
  for (const op of [...new Set([...opTotals.keys(), ...opHists.keys()])].sort()) {
    operations[op] = operationResult(opTotals.get(op) ?? emptyTotals(), opHists.get(op) ?? emptyHistogram(), durationS);
  }

  const successful = totals.requests - totals.errors;
  const latencyMs = latencyMsOf(allHist);
  const timing = timingOf(allHist);
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
    services: {
      [meta.service ?? meta.benchmark]: { total_requests: totals.requests, success_rate: successRate, throughput, timing },
    },
    sendLag: {
      p50Ms: lagHist.totalCount > 0 ? lagHist.getValueAtPercentile(50) / 1000 : 0,
      p99Ms: lagHist.totalCount > 0 ? lagHist.getValueAtPercentile(99) / 1000 : 0,
      // The summary's max is exact; the histogram's is rounded to its precision.
      maxMs: Math.max(maxSendLagMs, lagHist.maxValue / 1000),
    },
    timeseries: mergeTimeSeries(ranks.map((r) => ({ startedAtMs: Date.parse(r.summary.startedAt), rows: r.timeseries }))),
    warnings,
  };
  if (meta.slo) {
    result.slo = evaluateSlo(meta.slo, { latencyMs, errorRate: errorRateOf(result), throughput }, totals.requests);
  }
  return result;
}

/** Failed / total as a fraction 0..1 (dropped arrivals are reported apart, not counted here). */
export function errorRateOf(result: RunResult): number {
  const { total_requests, failed_requests } = result.summary;
  return total_requests > 0 ? failed_requests / total_requests : 0;
}

/** The short form for a Benchmark's status.results. */
export function summarize(result: RunResult): ResultsSummary {
  const l = result.latencyMs;
  return {
    requests: result.summary.total_requests,
    errors: result.summary.failed_requests,
    errorRate: errorRateOf(result),
    durationS: result.durationS,
    // Status is for people: three decimals say all a throughput needs to.
    throughput: Math.round(result.summary.throughput * 1000) / 1000,
    p50Ms: l.p50,
    p90Ms: l.p90,
    p95Ms: l.p95,
    p99Ms: l.p99,
    p999Ms: l.p999,
    maxMs: l.max,
    ...(result.slo ? { sloPassed: result.slo.passed } : {}),
  };
}
