// A Markdown report of one run: summary, per-operation and metric tables, SLO
// checks. For pull requests, wikis and terminals; reads only the RunResult.
import type { MetricStats, OperationResult, RunResult, SweepRow } from '../results/model.js';
import { checkLabel } from '../results/slo.js';

/** A table cell: pipes escaped, line breaks flattened, so a server's error text cannot break the table. */
export function mdCell(v: string | number): string {
  const s = typeof v === 'number' ? mdNumber(v) : v;
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Integers whole; others to about three significant digits (one decimal from 100, two from 1), no trailing zeros: 0.512, 12.35, 1234.6. */
export function mdNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  const a = Math.abs(n);
  return String(Number(a >= 100 ? n.toFixed(1) : a >= 1 ? n.toFixed(2) : n.toPrecision(3)));
}

function table(head: string[], rows: (string | number)[][], numeric: boolean[] = []): string {
  const sep = head.map((_, i) => (numeric[i] ? '---:' : '---'));
  return [head, sep, ...rows].map((r, i) => `| ${r.map((c) => (i === 1 ? String(c) : mdCell(c))).join(' | ')} |`).join('\n') + '\n';
}

/** Percent with two decimals at most: 99.93%, 100%. */
const pct = (n: number) => `${Number(n.toFixed(2))}%`;

function summaryTable(r: RunResult): string {
  const s = r.summary;
  const l = r.latencyMs;
  const rows: (string | number)[][] = [
    ['Requests', s.total_requests],
    ['Successful', s.successful_requests],
    ['Failed', `${s.failed_requests} (${pct(s.total_requests > 0 ? (s.failed_requests / s.total_requests) * 100 : 0)})`],
    ['Dropped (never sent)', s.dropped_requests],
    ['Measured duration', `${mdNumber(r.durationS)} s`],
    ['Throughput', `${mdNumber(s.throughput)} req/s`],
    ...(r.goodput ? [['Goodput', `${mdNumber(r.goodput.perSecond)} req/s (${r.goodput.good} good requests)`]] : []),
    ['Latency mean', `${mdNumber(l.mean)} ms`],
    ['Latency p50', `${mdNumber(l.p50)} ms`],
    ['Latency p90', `${mdNumber(l.p90)} ms`],
    ['Latency p95', `${mdNumber(l.p95)} ms`],
    ['Latency p99', `${mdNumber(l.p99)} ms`],
    ['Latency p99.9', `${mdNumber(l.p999)} ms`],
    ['Latency max', `${mdNumber(l.max)} ms`],
    ['SLO', r.slo ? (r.slo.passed ? 'passed' : 'failed') : '-'],
    ['Ended by', r.endedBy],
  ];
  if (r.generator) rows.push(['Generator kept up', r.generator.keptUp ? 'yes' : 'no']);
  return table(['Metric', 'Value'], rows, [false, true]);
}

type OpFigures = Pick<OperationResult, 'total_requests' | 'failed' | 'success_rate' | 'throughput' | 'latencyMs'>;

function operationsTable(r: RunResult): string {
  const line = (name: string, o: OpFigures) => [
    name,
    o.total_requests,
    o.failed,
    pct(o.success_rate),
    o.throughput,
    o.latencyMs.mean,
    o.latencyMs.p50,
    o.latencyMs.p90,
    o.latencyMs.p99,
    o.latencyMs.max,
  ];
  const rows = Object.entries(r.operations).map(([name, o]) => line(name, o));
  rows.push(
    line('all', {
      total_requests: r.summary.total_requests,
      failed: r.summary.failed_requests,
      success_rate: r.summary.success_rate,
      throughput: r.summary.throughput,
      latencyMs: r.latencyMs,
    }),
  );
  return table(
    ['Operation', 'Requests', 'Failed', 'Success', 'Throughput (req/s)', 'Mean (ms)', 'p50 (ms)', 'p90 (ms)', 'p99 (ms)', 'Max (ms)'],
    rows,
    [false, true, true, true, true, true, true, true, true, true],
  );
}

function metricsTable(r: RunResult): string {
  const rows: (string | number)[][] = [];
  const add = (op: string, name: string, m: MetricStats) =>
    rows.push([op, name, m.kind, m.unit, m.count, m.kind === 'count' ? m.sum : '-', m.kind === 'count' ? m.perSecond : '-', m.mean, m.p50, m.p99, m.max]);
  for (const [op, o] of Object.entries(r.operations)) for (const [name, m] of Object.entries(o.metrics)) add(op, name, m);
  if (Object.keys(r.operations).length > 1) for (const [name, m] of Object.entries(r.metrics)) add('all', name, m);
  if (rows.length === 0) return '';
  return `\n## Declared metrics\n\n${table(
    ['Operation', 'Metric', 'Kind', 'Unit', 'Values', 'Sum', 'Per second', 'Mean', 'p50', 'p99', 'Max'],
    rows,
    [false, false, false, false, true, true, true, true, true, true, true],
  )}`;
}

function sloSection(r: RunResult): string {
  if (!r.slo) return '';
  const rows = r.slo.checks.map((c) => {
    const { name, actual } = checkLabel(c);
    return [name, c.target, actual, c.unit, c.passed ? 'passed' : 'failed'];
  });
  return `\n## SLO checks\n\n**${r.slo.passed ? 'Passed' : 'Failed'}**\n\n${table(['Check', 'Target', 'Actual', 'Unit', 'Result'], rows, [false, true, true, false, false])}`;
}

function sweepSection(r: RunResult): string {
  if (!r.sweep) return '';
  const at = (p: SweepRow) => (p.parameter ? `${p.parameter.name}=${p.parameter.value}` : p.rate !== undefined ? `${p.rate} req/s` : p.workers !== undefined ? `${p.workers} workers` : '-');
  const rows = r.sweep.points.map((p) => [
    p.index === r.sweep!.primary ? `${p.index} (reported)` : String(p.index),
    at(p),
    p.requests,
    p.throughput,
    p.latencyP50Ms,
    p.latencyP99Ms,
    p.sloPassed === undefined ? '-' : p.sloPassed ? 'passed' : 'failed',
    p.endedBy,
  ]);
  return `\n## Sweep\n\nEnded: ${mdCell(r.sweep.ended)}. The tables above describe the reported point.\n\n${table(
    ['Point', 'Load', 'Requests', 'Throughput (req/s)', 'p50 (ms)', 'p99 (ms)', 'SLO', 'Ended by'],
    rows,
    [false, false, true, true, true, true, false, false],
  )}`;
}

function errorsSection(r: RunResult): string {
  const rows: (string | number)[][] = [];
  for (const [op, o] of Object.entries(r.operations)) for (const [reason, n] of Object.entries(o.errors)) rows.push([op, reason, n]);
  if (rows.length === 0) return '';
  rows.sort((x, y) => (y[2] as number) - (x[2] as number));
  return `\n## Errors\n\n${table(['Operation', 'Reason', 'Count'], rows.slice(0, 20), [false, false, true])}`;
}

function warningsSection(r: RunResult): string {
  if (r.warnings.length === 0) return '';
  return `\n## Warnings\n\n${r.warnings.map((w) => `- ${w.replace(/\r?\n/g, ' ')}`).join('\n')}\n`;
}

export function renderMarkdown(r: RunResult): string {
  const head =
    `# ${mdCell(r.benchmark)}: run ${mdCell(r.runId)}\n\n` +
    `Generation ${r.generation}, attempt ${r.attempt}, ${r.ranks} rank${r.ranks === 1 ? '' : 's'}; started ${r.startedAt}, completed ${r.completedAt}.\n`;
  return [
    head,
    `\n## Summary\n\n${summaryTable(r)}`,
    `\n## Operations\n\n${operationsTable(r)}`,
    metricsTable(r),
    sloSection(r),
    sweepSection(r),
    errorsSection(r),
    warningsSection(r),
  ].join('');
}
