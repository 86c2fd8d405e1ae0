// A self-contained HTML report: one file with inline CSS and an inline SVG
// chart, no scripts and no external URLs, so it opens offline on a login node.
import type { MetricStats, RunResult, TimeSeriesPoint } from '../results/model.js';
import { checkLabel } from '../results/slo.js';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const fmt = (n: number, digits = 2) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: digits }));

function table(head: string[], rows: (string | number)[][], cls = ''): string {
  const cell = (v: string | number, tag: 'td' | 'th') => `<${tag}${typeof v === 'number' ? ' class="n"' : ''}>${typeof v === 'number' ? fmt(v) : escapeHtml(v)}</${tag}>`;
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => cell(h, 'th')).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v) => cell(v, 'td')).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** A "nice" axis maximum (1, 2 or 5 times a power of ten) at or above v. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

/** Throughput (successful req/s, left axis) and p99 (ms, right axis) per second; warmup seconds shaded. */
export function chartSvg(points: TimeSeriesPoint[]): string {
  if (points.length === 0) return '<p class="muted">No per-second data was recorded.</p>';
  const W = 900, H = 280, L = 60, R = 60, T = 20, B = 40;
  const pw = W - L - R, ph = H - T - B;
  const first = points[0].second, last = points[points.length - 1].second;
  const span = Math.max(1, last - first);
  const rps = points.map((p) => p.requests - p.errors);
  const yL = niceMax(Math.max(...rps));
  const yR = niceMax(Math.max(...points.map((p) => p.p99Ms)));
  const x = (s: number) => L + ((s - first) / span) * pw;
  const yl = (v: number) => T + ph - (v / yL) * ph;
  const yr = (v: number) => T + ph - (v / yR) * ph;
  const line = (ys: number[]) => points.map((p, i) => `${x(p.second).toFixed(1)},${ys[i].toFixed(1)}`).join(' ');
  const warm = points
    .filter((p) => p.warmup)
    .map((p) => `<rect x="${x(p.second).toFixed(1)}" y="${T}" width="${Math.max(1, pw / (span + 1)).toFixed(1)}" height="${ph}" class="warm"/>`)
    .join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const y = T + ph - f * ph;
      return `<line x1="${L}" x2="${L + pw}" y1="${y}" y2="${y}" class="grid"/><text x="${L - 6}" y="${y + 4}" text-anchor="end">${fmt(yL * f)}</text><text x="${L + pw + 6}" y="${y + 4}">${fmt(yR * f)}</text>`;
    })
    .join('');
  return `<svg role="img" aria-label="Throughput and p99 latency per second" viewBox="0 0 ${W} ${H}" width="100%">
<style>.grid{stroke:#ddd}.warm{fill:#f3ecd9}text{font:11px sans-serif;fill:#555}.tp{fill:none;stroke:#1f6feb;stroke-width:1.5}.p99{fill:none;stroke:#d1242f;stroke-width:1.5}</style>
${warm}${ticks}
<polyline class="tp" points="${line(rps.map(yl))}"/>
<polyline class="p99" points="${line(points.map((p) => yr(p.p99Ms)))}"/>
<text x="${L}" y="${H - 10}">second ${first}</text><text x="${L + pw}" y="${H - 10}" text-anchor="end">second ${last}</text>
<text x="${L + pw / 2 - 120}" y="${H - 10}" style="fill:#1f6feb">— successful req/s (left)</text>
<text x="${L + pw / 2 + 30}" y="${H - 10}" style="fill:#d1242f">— p99 ms (right, upper bound)</text>
</svg>`;
}

/** Each declared metric (time to first token, tokens, bytes...) per operation and over all of them. */
function metricsTable(r: RunResult): string {
  const rows: (string | number)[][] = [];
  const add = (op: string, name: string, m: MetricStats) =>
    rows.push([op, name, m.unit, m.count, m.sum, m.perSecond, m.mean, m.p50, m.p90, m.p99, m.max]);
  for (const [op, o] of Object.entries(r.operations)) for (const [name, m] of Object.entries(o.metrics)) add(op, name, m);
  if (Object.keys(r.operations).length > 1) for (const [name, m] of Object.entries(r.metrics)) add('all', name, m);
  if (rows.length === 0) return '';
  return `<h2>Metrics</h2>${table(['operation', 'metric', 'unit', 'values', 'sum', 'sum/s', 'mean', 'p50', 'p90', 'p99', 'max'], rows)}`;
}

/** MLPerf-style percentiles, failures as infinitely slow, beside the failed share: only worth a table when something failed. */
function withFailuresTable(r: RunResult): string {
  const w = r.withFailures;
  if (w.failedShare === 0) return '';
  const v = (x: number | null) => (x === null ? 'inf' : x);
  const rows = [['latency', ...[w.latencyMs.p50, w.latencyMs.p90, w.latencyMs.p95, w.latencyMs.p99, w.latencyMs.p999].map(v)]];
  for (const [name, p] of Object.entries(w.metrics)) rows.push([name, ...[p.p50, p.p90, p.p95, p.p99, p.p999].map(v)]);
  return `<h2>Failures counted as infinitely slow (${(w.failedShare * 100).toFixed(2)}% failed), ms</h2>${table(['timing', 'p50', 'p90', 'p95', 'p99', 'p99.9'], rows)}`;
}

/** A sweep's curve as a table, one row per point, the described point marked. */
function sweepTable(r: RunResult): string {
  if (!r.sweep) return '';
  const timings = [...new Set(r.sweep.points.flatMap((p) => Object.keys(p.timings)))].sort();
  const counts = [...new Set(r.sweep.points.flatMap((p) => Object.keys(p.perSecond)))].sort();
  const rows = r.sweep.points.map((p) => [
    `${p.index}${p.index === r.sweep!.primary ? ' *' : ''}`,
    p.rate ?? p.workers ?? '',
    p.throughput,
    p.goodput ?? '',
    p.failed,
    p.dropped,
    p.latencyP50Ms,
    p.latencyP99Ms,
    ...timings.map((t) => p.timings[t]?.p99 ?? ''),
    ...counts.map((c) => p.perSecond[c] ?? ''),
    p.sloPassed === undefined ? '' : p.sloPassed ? 'pass' : 'FAIL',
    p.keptUp === undefined ? '' : p.keptUp ? 'yes' : 'no',
  ]);
  const offered = r.sweep.points.some((p) => p.rate !== undefined) ? 'rate req/s' : 'workers';
  return `<h2>Sweep</h2><p>${escapeHtml(r.sweep.ended)}; * marks the point this report describes.</p>${table(
    ['point', offered, 'req/s', 'goodput', 'failed', 'dropped', 'p50 ms', 'p99 ms', ...timings.map((t) => `${t} p99 ms`), ...counts.map((c) => `${c}/s`), 'SLO', 'kept up'],
    rows,
  )}`;
}

export function renderHtml(r: RunResult): string {
  const s = r.summary;
  const l = r.latencyMs;
  const ops = Object.entries(r.operations);
  const errors = ops.flatMap(([op, o]) => Object.entries(o.errors).map(([reason, n]) => [op, reason, n] as (string | number)[]));
  const slo = r.slo
    ? `<h2>SLO: <span class="${r.slo.passed ? 'ok' : 'bad'}">${r.slo.passed ? 'passed' : 'failed'}</span></h2>${table(
        ['check', 'target', 'actual', 'unit', 'result'],
        r.slo.checks.map((c) => [checkLabel(c).name, c.target, checkLabel(c).actual, c.unit, c.passed ? 'pass' : 'FAIL']),
      )}`
    : '';
  const title = `${r.benchmark} — ${r.runId}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222;max-width:1000px}table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:left}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f6f8fa}.ok{color:#1a7f37}.bad{color:#d1242f}.muted{color:#777}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p class="muted">generation ${r.generation}, attempt ${r.attempt}, ${r.ranks} rank(s), ${escapeHtml(r.startedAt)} to ${escapeHtml(r.completedAt)}</p>
${r.warnings.length ? `<ul class="bad">${r.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : ''}
${sweepTable(r)}
<h2>Summary</h2>
${table(
  ['requests', 'successful', 'failed', 'dropped', 'success %', 'duration s', 'throughput req/s'],
  [[s.total_requests, s.successful_requests, s.failed_requests, s.dropped_requests, s.success_rate, s.total_duration, s.throughput]],
)}
${r.ranksInStep ? `<p>${r.ranks} ranks started within ${r.ranksInStep.startSkewMs} ms of each other; the first finished at ${escapeHtml(r.ranksInStep.firstDoneAt)}, the last at ${escapeHtml(r.ranksInStep.lastDoneAt)}${r.ranksInStep.stonewalled > 0 ? ` (${r.ranksInStep.stonewalled} stopped by the stonewall)` : ''}.</p>` : ''}
<p>Ended by: ${escapeHtml(r.endedBy)}${r.verdicts ? ` (verdicts: ${escapeHtml(Object.entries(r.verdicts).map(([k, v]) => `${k} ${v}`).join(', '))})` : ''}${r.goodput ? `; goodput ${r.goodput.perSecond.toFixed(3)} req/s (${r.goodput.good} good requests)` : ''}</p>
<h2>Latency (ms)</h2>
${table(['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max', 'stddev'], [[l.min, l.mean, l.p50, l.p90, l.p95, l.p99, l.p999, l.max, r.timing.stddev * 1000]])}
${withFailuresTable(r)}
${slo}
<h2>Per second</h2>
${chartSvg(r.timeseries)}
<h2>Operations</h2>
${table(
  ['operation', 'requests', 'failed', 'success %', 'req/s', 'mean ms', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
  ops.map(([op, o]) => [op, o.total_requests, o.failed, o.success_rate, o.throughput, o.latencyMs.mean, o.latencyMs.p50, o.latencyMs.p95, o.latencyMs.p99, o.latencyMs.max]),
)}
${metricsTable(r)}
${errors.length ? `<h2>Errors</h2>${table(['operation', 'reason', 'count'], errors)}` : ''}
<h2>Send lag (ms)</h2>
${table(['p50', 'p99', 'max'], [[r.sendLag.p50Ms, r.sendLag.p99Ms, r.sendLag.maxMs]])}
</body></html>
`;
}
