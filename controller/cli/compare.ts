// `aifbctl compare RUN_A RUN_B`: two runs side by side with the delta of each
// number and, for medians and p99s, a bootstrap interval and a verdict.
import { DEFAULT_RESAMPLES, DEFAULT_SEED } from '../../monitoring/results/bootstrap.js';
import { compareRuns, loadDifferences, readRunDistributions, type ComparedRun, type Comparison, type ComparisonRow } from '../../monitoring/results/compare.js';
import { errorMessage, type IO } from './context.js';
import { renderTable } from './format.js';
import { serialize } from './get.js';
import { readRunSpec, RunIndex, type RunRecord, withRunIndex } from './run-ref.js';

export const COMPARE_OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type CompareOutputFormat = (typeof COMPARE_OUTPUT_FORMATS)[number];

export interface CompareOptions {
  stateDir: string;
  /** Run references: a run id, NAME (its latest run with results) or NAME~N (N runs before it). */
  runA: string;
  runB: string;
  output?: CompareOutputFormat;
  resamples?: number;
  seed?: number;
}

export const COMPARE_HELP = `
Compares run B with run A, per operation (and "all") and declared metric:
requests, throughput, mean, p50 and p99 latency, each timing metric's p50 and
p99 (and count metrics per second), with B - A absolute and in percent.
Medians and p99s get a bootstrap 95% confidence interval of the difference,
resampled from each run's stored HDR histograms (1000 resamples, seed 1:
the same runs always give the same answer), and a verdict: "faster",
"slower" or "no significant difference" (the interval includes 0).

A run is a run id (vllm-load-g3-a1), a benchmark name (its latest run with
results), or NAME~N (N runs before the latest; see aifbctl runs NAME).

Examples:
  aifbctl compare vllm-load~1 vllm-load                # did the last change help?
  aifbctl compare vllm-load-g2-a1 vllm-load-g3-a1
  aifbctl compare baseline-load tuned-load -o json     # two benchmarks' latest runs
  aifbctl compare vllm-load~1 vllm-load --resamples 5000 --seed 7`;

const finite = (n: number | null): n is number => n !== null && Number.isFinite(n);

/** Latency to the microsecond below 1 ms, then two decimals, one from 100 ms, seconds from 1 s: 0.184ms, 18.53ms, 372.5ms, 1.20s. */
function ms(v: number, signed: boolean): string {
  const sign = signed && v > 0 ? '+' : '';
  const a = Math.abs(v);
  if (a >= 1000) return `${sign}${(v / 1000).toFixed(2)}s`;
  return `${sign}${v.toFixed(a >= 100 ? 1 : a >= 1 ? 2 : 3)}ms`;
}

function plain(v: number, unit: string, signed: boolean): string {
  const sign = signed && v > 0 ? '+' : '';
  if (unit === 'requests') return `${sign}${Math.round(v)}`;
  if (unit.endsWith('/s')) return `${sign}${v.toFixed(1)}`;
  return `${sign}${Number(v.toPrecision(3))}`;
}

/** A value in its row's unit; timing units (ms) as latencies. */
export function formatValue(v: number | null, unit: string, signed = false): string {
  if (!finite(v)) return '-';
  return unit === 'ms' ? ms(v, signed) : plain(v, unit, signed);
}

const formatPercent = (p: number | null) => (finite(p) ? `${p > 0 ? '+' : ''}${p.toFixed(1)}%` : '-');

export const COMPARE_HEADER = ['OPERATION', 'METRIC', 'A', 'B', 'DELTA', 'DELTA%', '95% CI OF DELTA', 'VERDICT'];

function tableRow(r: ComparisonRow): string[] {
  return [
    r.operation,
    r.unit === 'ms' || r.unit === 'requests' || r.unit === 'req/s' ? r.metric : `${r.metric} (${r.unit})`,
    formatValue(r.a, r.unit),
    formatValue(r.b, r.unit),
    formatValue(r.delta, r.unit, true),
    formatPercent(r.deltaPercent),
    r.ci ? `[${formatValue(r.ci.low, r.unit, true)}, ${formatValue(r.ci.high, r.unit, true)}]` : '-',
    r.verdict ?? '-',
  ];
}

/** The plain-text comparison: who is A and B, warnings, the table, verdicts, how the intervals were made. */
export function renderComparison(c: Comparison, notes: readonly string[] = []): string {
  const pct = Math.round(c.bootstrap.confidence * 100);
  const header = COMPARE_HEADER.map((h) => (h === '95% CI OF DELTA' ? `${pct}% CI OF DELTA` : h));
  let out = '';
  out += `A: ${c.a.runId}  (benchmark ${c.a.benchmark}, started ${c.a.startedAt}, ${c.a.requests} requests)\n`;
  out += `B: ${c.b.runId}  (benchmark ${c.b.benchmark}, started ${c.b.startedAt}, ${c.b.requests} requests)\n`;
  for (const w of [...notes, ...c.warnings]) out += `Warning: ${w}\n`;
  out += '\n' + renderTable(header, c.rows.map(tableRow));
  out += `\nVerdicts (B against A; deltas are B - A):\n`;
  const width = Math.max(...c.operations.map((o) => o.operation.length));
  for (const o of c.operations) out += `  ${o.operation.padEnd(width)}  ${o.verdict} (${o.reason})\n`;
  out += `Overall: ${overallSentence(c)}\n`;
  out += c.bootstrap.available
    ? `\nIntervals: ${c.bootstrap.resamples} bootstrap resamples, seed ${c.bootstrap.seed}, ${pct}% percentile intervals of B - A. ` +
      `Each resample draws as many values as the run recorded (A ${c.bootstrap.draws.a}, B ${c.bootstrap.draws.b} for "all"), no cap: ` +
      `a resample's median and p99 are drawn exactly as order statistics from the run's merged HDR histogram (3 significant digits).\n`
    : `\nIntervals: none (a run's histograms are missing from its run folder).\n`;
  return out;
}

function overallSentence(c: Comparison): string {
  const o = c.overall;
  const who = `B (${c.b.runId})`;
  const against = `A (${c.a.runId})`;
  switch (o.verdict) {
    case 'faster':
    case 'slower':
      return `${who} is ${o.verdict} than ${against}: ${o.reason}.`;
    case 'mixed':
      return `${who} is neither plainly faster nor slower than ${against}: ${o.reason}.`;
    default:
      return `no significant difference between ${who} and ${against} in latency (${o.reason}).`;
  }
}

async function loadRun(index: RunIndex, run: RunRecord, side: 'A' | 'B', notes: string[]): Promise<ComparedRun> {
  const result = await index.result(run);
  if (!run.hasFolder) {
    notes.push(`run ${side} (${run.runId}) has no run folder (${run.runDir}): no histograms`);
    return { result };
  }
  try {
    return { result, distributions: await readRunDistributions(run.runDir, result.sweep?.primary) };
  } catch (e) {
    notes.push(`run ${side} (${run.runId}): ${errorMessage(e)}`);
    return { result };
  }
}

export async function runCompare(opts: CompareOptions, io: IO): Promise<number> {
  const output = opts.output ?? 'table';
  if (!(COMPARE_OUTPUT_FORMATS as readonly string[]).includes(output)) {
    io.stderr(`Error: unknown output format "${output}"; use one of ${COMPARE_OUTPUT_FORMATS.join(', ')}\n`);
    return 1;
  }
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  if (!Number.isInteger(resamples) || resamples < 100) {
    io.stderr(`Error: --resamples must be a whole number of at least 100 (got ${opts.resamples}); 1000 is the usual\n`);
    return 1;
  }
  return withRunIndex(opts.stateDir, io, async (index) => {
    const runA = await index.resolve(opts.runA, { withResults: true });
    const runB = await index.resolve(opts.runB, { withResults: true });
    const notes: string[] = [];
    if (runA.runId === runB.runId && runA.benchmark === runB.benchmark) notes.push(`both references name run ${runA.runId}: it is compared with itself`);
    const a = await loadRun(index, runA, 'A', notes);
    const b = await loadRun(index, runB, 'B', notes);
    const specA = runA.hasFolder ? await readRunSpec(runA.runDir) : undefined;
    const specB = runB.hasFolder ? await readRunSpec(runB.runDir) : undefined;
    let loadDiffs: string[] = [];
    if (specA && specB) {
      loadDiffs = loadDifferences(specA, specB);
      if (loadDiffs.length > 0) notes.unshift(`the runs' load settings differ (${loadDiffs.join('; ')}): a difference may come from the load, not the system`);
    } else {
      notes.push(`load settings unknown for ${[specA ? undefined : `A (${runA.runId})`, specB ? undefined : `B (${runB.runId})`].filter(Boolean).join(' and ')}: no spec.json in its run folder`);
    }
    const comparison = compareRuns(a, b, { resamples, seed: opts.seed ?? DEFAULT_SEED });
    if (output === 'table') io.stdout(renderComparison(comparison, notes));
    else io.stdout(serialize({ ...comparison, loadDifferences: loadDiffs, warnings: [...notes, ...comparison.warnings] }, output));
    return 0;
  });
}
