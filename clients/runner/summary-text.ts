// The end-of-run summary as text, laid out like vLLM's serving benchmark
// (`vllm bench serve`) so the two can be set side by side: counts, duration,
// throughputs, then one block per timing with mean, median and p99. The
// runner prints its own rank's; `aifbctl describe` prints the merged run's.
import type { MetricSummary, ResultsSummary } from '../../api/schemas.js';

/** vLLM's headings and abbreviations for the metrics it also reports; others use their own name. */
const TIMING_TITLES: Record<string, [title: string, short: string]> = {
  ttft: ['Time to First Token', 'TTFT'],
  tpot: ['Time per Output Token (excl. 1st token)', 'TPOT'],
  tpotAll: ['Time per Output Token (incl. 1st, guidellm)', 'TPOT incl. 1st'],
  itl: ['Inter-token Latency', 'ITL'],
  ttfr: ['Time to First Reasoning Token', 'TTFR'],
  ttfb: ['Time to First Byte', 'TTFB'],
};
/** Timings shown first, in vLLM's order; the rest follow alphabetically. */
const ORDER = ['ttft', 'tpot', 'tpotAll', 'itl'];

const WIDTH = 50;
const LABEL = 40;

function line(label: string, value: string): string {
  return `${`${label}:`.padEnd(LABEL)} ${value}\n`;
}

function heading(text: string, fill: string): string {
  const room = Math.max(0, WIDTH - text.length - 2);
  const left = Math.floor(room / 2);
  return `${fill.repeat(left)}${text ? ` ${text} ` : fill.repeat(2)}${fill.repeat(room - left)}\n`;
}

const fixed = (x: number) => x.toFixed(2);
const whole = (x: number) => String(Math.round(x));
const orInf = (x: number | null) => (x === null ? 'inf' : fixed(x));

function timingBlock(name: string, m: Pick<MetricSummary, 'mean' | 'p50' | 'p99' | 'p99WithFailures'>, failed: boolean): string {
  const [title, short] = TIMING_TITLES[name] ?? [name, name];
  let out = heading(title, '-');
  out += line(`Mean ${short} (ms)`, fixed(m.mean));
  out += line(`Median ${short} (ms)`, fixed(m.p50));
  out += line(`P99 ${short} (ms)`, fixed(m.p99));
  // MLPerf's reading beside it: a failed request is infinitely slow.
  if (failed && m.p99WithFailures !== undefined) out += line(`P99 ${short}, failed=inf (ms)`, orInf(m.p99WithFailures));
  return out;
}

/** Count metrics: vLLM's wording for tokens, the metric's own name and unit otherwise. */
function countLines(metrics: Record<string, MetricSummary>): { totals: string; rates: string } {
  let totals = '';
  let rates = '';
  const input = metrics.inputTokens;
  const output = metrics.outputTokens;
  if (input?.sum !== undefined) totals += line('Total input tokens', whole(input.sum));
  if (output?.sum !== undefined) {
    totals += line('Total generated tokens', whole(output.sum));
    rates += line('Output token throughput (tok/s)', fixed(output.perSecond ?? 0));
    if (output.peakPerSecond !== undefined) rates += line('Peak output token throughput (tok/s)', fixed(output.peakPerSecond));
  }
  if (input?.perSecond !== undefined && output?.perSecond !== undefined) rates += line('Total token throughput (tok/s)', fixed(input.perSecond + output.perSecond));
  for (const [name, m] of Object.entries(metrics)) {
    if (m.sum === undefined || name === 'inputTokens' || name === 'outputTokens') continue;
    totals += line(`Total ${name} (${m.unit})`, whole(m.sum));
    rates += line(`${name} throughput (${m.unit}/s)`, fixed(m.perSecond ?? 0));
  }
  return { totals, rates };
}

/** The summary text; `title` names the kind of run ("Serving Benchmark Result" for LLM serving). */
export function summaryText(r: ResultsSummary, title = 'Benchmark Result'): string {
  const metrics = r.metrics ?? {};
  const failed = r.errors > 0;
  let out = heading(title, '=');
  out += line('Successful requests', whole(r.requests - r.errors));
  out += line('Failed requests', whole(r.errors));
  for (const [reason, n] of Object.entries(r.errorReasons ?? {})) out += `  ${n} x ${reason}\n`;
  out += line('Benchmark duration (s)', fixed(r.durationS));
  if (r.endedBy) out += line('Ended by', r.endedBy);
  if (r.startSkewMs !== undefined) out += line('Start skew across ranks (ms)', fixed(r.startSkewMs));
  if (r.sweep) out += line('Sweep', `${r.sweep.points} points, ${r.sweep.ended}; this is point ${r.sweep.primary} (${r.sweep.at})`);
  const counts = countLines(metrics);
  out += counts.totals;
  out += line('Request throughput (req/s)', fixed(r.throughput));
  if (r.goodput !== undefined) out += line('Request goodput (req/s)', fixed(r.goodput));
  out += counts.rates;
  if (r.sendLagP99Ms !== undefined) out += line('P99 send lag (ms)', fixed(r.sendLagP99Ms));
  if (r.generator) {
    out += line('Sent / target rate (req/s)', `${fixed(r.generator.achievedRate)} / ${fixed(r.generator.targetRate)}`);
    out += line('Load generator kept up', r.generator.keptUp ? 'yes' : 'NO');
    // Said in full: a number the client limited must not be read as the service's.
    if (r.generator.why) out += `  ${r.generator.why}\n`;
  }
  const timings = Object.keys(metrics)
    .filter((name) => metrics[name].unit === 'ms')
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  for (const name of timings) out += timingBlock(name, metrics[name], failed);
  out += heading('End-to-end Latency', '-');
  if (r.meanMs !== undefined) out += line('Mean E2EL (ms)', fixed(r.meanMs));
  out += line('Median E2EL (ms)', fixed(r.p50Ms));
  out += line('P99 E2EL (ms)', fixed(r.p99Ms));
  if (failed && r.p99MsWithFailures !== undefined) out += line('P99 E2EL, failed=inf (ms)', orInf(r.p99MsWithFailures));
  if (r.sloPassed !== undefined) out += line('SLO', r.sloPassed ? 'passed' : 'FAILED');
  out += '='.repeat(WIDTH) + '\n';
  return out;
}

const rank = (name: string) => {
  const i = ORDER.indexOf(name);
  return i === -1 ? ORDER.length : i;
};
