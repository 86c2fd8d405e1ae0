// The HTML report's tables and sentences, one function per section, each
// empty when the run has nothing for it (no failures, no SLO, no sweep).
import type { LatencyMs, MetricStats, RunResult } from '../../results/model.js';
import { checkLabel } from '../../results/slo.js';
import { escapeHtml, table, type Cell } from './table.js';

export function summarySection(r: RunResult): string {
  const s = r.summary;
  const step = r.ranksInStep;
  return `<h2>Summary</h2>
${table(
  ['requests', 'successful', 'failed', 'dropped', 'success %', 'duration s', 'throughput req/s'],
  [[s.total_requests, s.successful_requests, s.failed_requests, s.dropped_requests, s.success_rate, s.total_duration, s.throughput]],
)}
${step ? `<p>${r.ranks} ranks started within ${step.startSkewMs} ms of each other; the first finished at ${escapeHtml(step.firstDoneAt)}, the last at ${escapeHtml(step.lastDoneAt)}${step.stonewalled > 0 ? ` (${step.stonewalled} stopped by the stonewall)` : ''}.</p>` : ''}
<p>Ended by: ${escapeHtml(r.endedBy)}${r.verdicts ? ` (verdicts: ${escapeHtml(Object.entries(r.verdicts).map(([k, v]) => `${k} ${v}`).join(', '))})` : ''}${r.goodput ? `; goodput ${r.goodput.perSecond.toFixed(3)} req/s (${r.goodput.good} good requests)` : ''}</p>
${generatorLine(r)}`;
}

/** Open loop: what was asked and what was sent, so a limited client is never read as a slow server. */
function generatorLine(r: RunResult): string {
  const g = r.generator;
  if (!g) return '';
  const verdict = g.keptUp ? '<span class="ok">kept up</span>' : `<span class="bad">${escapeHtml(g.why ?? 'did not keep up')}</span>`;
  return `<p>Load generator: asked ${g.targetRate} req/s, sent ${g.achievedRate} req/s, send-lag p99 ${g.sendLagP99Ms} ms, ${g.dropped} dropped: ${verdict}.</p>`;
}

/** Percentiles per operation and over all of them (stddev from the exact timing block). */
export function latencyTable(r: RunResult): string {
  const row = (op: string, l: LatencyMs, stddevS: number): Cell[] => [op, l.min, l.mean, l.p50, l.p90, l.p95, l.p99, l.p999, l.max, stddevS * 1000];
  const ops = Object.entries(r.operations).map(([op, o]) => row(op, o.latencyMs, o.timing.stddev));
  return `<h2>Latency (ms)</h2>${table(['operation', 'min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max', 'stddev'], [...ops, row('all', r.latencyMs, r.timing.stddev)])}`;
}

/** MLPerf-style percentiles, failures as infinitely slow, beside the failed share: only worth a table when something failed. */
export function withFailuresTable(r: RunResult): string {
  const w = r.withFailures;
  if (w.failedShare === 0) return '';
  const v = (x: number | null) => (x === null ? 'inf' : x);
  const rows = [['latency', ...[w.latencyMs.p50, w.latencyMs.p90, w.latencyMs.p95, w.latencyMs.p99, w.latencyMs.p999].map(v)]];
  for (const [name, p] of Object.entries(w.metrics)) rows.push([name, ...[p.p50, p.p90, p.p95, p.p99, p.p999].map(v)]);
  return `<h2>Failures counted as infinitely slow (${(w.failedShare * 100).toFixed(2)}% failed), ms</h2>${table(['timing', 'p50', 'p90', 'p95', 'p99', 'p99.9'], rows)}`;
}

export function sloSection(r: RunResult): string {
  if (!r.slo) return '';
  return `<h2>SLO: <span class="${r.slo.passed ? 'ok' : 'bad'}">${r.slo.passed ? 'passed' : 'failed'}</span></h2>${table(
    ['check', 'target', 'actual', 'unit', 'result'],
    r.slo.checks.map((c) => [checkLabel(c).name, c.target, checkLabel(c).actual, c.unit, c.passed ? 'pass' : 'FAIL']),
  )}`;
}

export function operationsTable(r: RunResult): string {
  return `<h2>Operations</h2>${table(
    ['operation', 'requests', 'failed', 'success %', 'req/s', 'mean ms', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
    Object.entries(r.operations).map(([op, o]) => [op, o.total_requests, o.failed, o.success_rate, o.throughput, o.latencyMs.mean, o.latencyMs.p50, o.latencyMs.p95, o.latencyMs.p99, o.latencyMs.max]),
  )}`;
}

/** Each declared metric (time to first token, tokens, bytes...) per operation and over all of them. */
export function metricsTable(r: RunResult): string {
  const rows: Cell[][] = [];
  const add = (op: string, name: string, m: MetricStats) => rows.push([op, name, m.unit, m.count, m.sum, m.perSecond, m.mean, m.p50, m.p90, m.p99, m.max]);
  for (const [op, o] of Object.entries(r.operations)) for (const [name, m] of Object.entries(o.metrics)) add(op, name, m);
  if (Object.keys(r.operations).length > 1) for (const [name, m] of Object.entries(r.metrics)) add('all', name, m);
  if (rows.length === 0) return '';
  return `<h2>Metrics</h2>${table(['operation', 'metric', 'unit', 'values', 'sum', 'sum/s', 'mean', 'p50', 'p90', 'p99', 'max'], rows)}`;
}

/** A sweep's curve as a table, one row per point, the described point marked. */
export function sweepTable(r: RunResult): string {
  if (!r.sweep) return '';
  const pts = r.sweep.points;
  const names = (f: (p: (typeof pts)[number]) => object | undefined) => [...new Set(pts.flatMap((p) => Object.keys(f(p) ?? {})))].sort();
  const timings = names((p) => p.timings);
  const counts = names((p) => p.perSecond);
  const values = names((p) => p.values);
  const param = pts.find((p) => p.parameter)?.parameter?.name;
  // A parameter sweep holds the load still, so may have neither.
  const offered = pts.some((p) => p.rate !== undefined) ? 'rate req/s' : pts.some((p) => p.workers !== undefined) ? 'workers' : undefined;
  const rows = pts.map((p) => [
    `${p.index}${p.index === r.sweep!.primary ? ' *' : ''}`,
    ...(offered ? [p.rate ?? p.workers ?? ''] : []),
    ...(param ? [p.parameter?.value ?? ''] : []),
    p.throughput,
    p.goodput ?? '',
    p.failed,
    p.dropped,
    p.latencyP50Ms,
    p.latencyP99Ms,
    ...timings.map((t) => p.timings[t]?.p99 ?? ''),
    ...counts.map((c) => p.perSecond[c] ?? ''),
    ...values.map((v) => p.values?.[v]?.mean ?? ''),
    p.sloPassed === undefined ? '' : p.sloPassed ? 'pass' : 'FAIL',
    p.keptUp === undefined ? '' : p.keptUp ? 'yes' : 'no',
  ]);
  return `<h2>Sweep</h2><p>${escapeHtml(r.sweep.ended)}; * marks the point this report describes.</p>${table(
    ['point', ...(offered ? [offered] : []), ...(param ? [param] : []), 'req/s', 'goodput', 'failed', 'dropped', 'p50 ms', 'p99 ms', ...timings.map((t) => `${t} p99 ms`), ...counts.map((c) => `${c}/s`), ...values.map((v) => `${v} mean`), 'SLO', 'kept up'],
    rows,
  )}`;
}

export function errorsTable(r: RunResult): string {
  const rows = Object.entries(r.operations).flatMap(([op, o]) => Object.entries(o.errors).map(([reason, n]): Cell[] => [op, reason, n]));
  return rows.length ? `<h2>Errors</h2>${table(['operation', 'reason', 'count'], rows)}` : '';
}

export const sendLagTable = (r: RunResult) => `<h2>Send lag (ms)</h2>${table(['p50', 'p99', 'max'], [[r.sendLag.p50Ms, r.sendLag.p99Ms, r.sendLag.maxMs]])}`;
