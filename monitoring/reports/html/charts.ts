// What the HTML report charts, as plain data: each chart is a spec (axes,
// aligned x and y arrays) that the page's script hands to uPlot, or a "no data"
// note where there is nothing to draw, so the report never shows an empty chart.
import type { Buckets, OperationResult, RunResult, SweepRow, TimeSeriesPoint } from '../../results/model.js';

export interface SeriesSpec {
  label: string;
  color: string;
  /** Aligned with the chart's xs; null is a gap. */
  values: (number | null)[];
  dash?: boolean;
}

export interface ChartSpec {
  /** The container's data-chart attribute: lowercase letters, digits and dashes. */
  name: string;
  title: string;
  x: { label: string; log?: boolean };
  y: { label: string; min?: number; max?: number };
  /** Ascending, as uPlot's aligned data needs. */
  xs: number[];
  series: SeriesSpec[];
  /** x ranges drawn shaded behind the lines (warmup seconds). */
  shade?: [number, number][];
  /** One line under the chart saying what it shows. */
  caption: string;
  /** Mark every point: each is a measurement (a bucket bound, a sweep point); otherwise uPlot marks them only while they are sparse. */
  markers?: boolean;
}

/** A place in the report: a chart, or the note that stands in for one. */
export type ChartBlock = { chart: ChartSpec } | { noData: string };

const PALETTE = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7ea4', '#57606a'];
const color = (i: number) => PALETTE[i % PALETTE.length];

const chartName = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'chart';

/** Gives a repeated chart name (a metric called "latency") a suffix, so each container is found once. */
export function uniqueNames(blocks: ChartBlock[]): ChartBlock[] {
  const seen = new Set<string>();
  return blocks.map((b) => {
    if (!('chart' in b)) return b;
    let name = b.chart.name;
    for (let i = 2; seen.has(name); i++) name = `${b.chart.name}-${i}`;
    seen.add(name);
    return name === b.chart.name ? b : { chart: { ...b.chart, name } };
  });
}

/**
 * A cumulative distribution from Prometheus-style buckets, one series per entry
 * on a log ms axis, cut to the bounds where something happens. Bucket counts are
 * exact at each bound; the lines between bounds are drawn, not measured.
 */
function cdfChart(name: string, title: string, what: string, entries: [string, Buckets][]): ChartBlock {
  const used = entries.filter(([, b]) => b.count > 0);
  if (used.length === 0) return { noData: `No data: no ${what} was recorded, so there is no distribution to draw.` };
  const le = used[0][1].le;
  const first = Math.min(...used.map(([, b]) => b.counts.findIndex((c) => c > 0)).map((i) => (i < 0 ? le.length - 1 : i)));
  const full = Math.max(...used.map(([, b]) => b.counts.findIndex((c) => c >= b.count)).map((i) => (i < 0 ? le.length - 1 : i)));
  const lo = Math.max(0, first - 1);
  const hi = Math.max(Math.min(le.length - 1, full), lo + 1);
  return {
    chart: {
      name: chartName(name),
      title,
      x: { label: 'ms (log scale)', log: true },
      y: { label: '% at or below', min: 0, max: 100 },
      xs: le.slice(lo, hi + 1).map((s) => s * 1000),
      series: used.map(([label, b], i) => ({ label, color: color(i), values: b.counts.slice(lo, hi + 1).map((c) => (100 * c) / b.count) })),
      caption: `Share of ${what} at or below each bucket bound (exact at the marked bounds).`,
      markers: true,
    },
  };
}

/** Warmup seconds as x ranges: a run of warmup seconds s..t shades [s, t + 1]. */
function warmupRanges(points: TimeSeriesPoint[]): [number, number][] {
  const out: [number, number][] = [];
  for (const p of points) {
    if (!p.warmup) continue;
    const last = out.at(-1);
    if (last && last[1] === p.second) last[1] = p.second + 1;
    else out.push([p.second, p.second + 1]);
  }
  return out;
}

/** Requests and errors per second, and p50/p99 per second, warmup shaded. */
export function overTimeCharts(points: TimeSeriesPoint[]): ChartBlock[] {
  if (points.length === 0) return [{ noData: 'No data: the runners recorded no per-second rows, so there is nothing to draw over time.' }];
  const xs = points.map((p) => p.second);
  const shade = warmupRanges(points);
  const warm = shade.length > 0 ? ' Shaded: warmup, not measured.' : '';
  return [
    {
      chart: {
        name: 'throughput',
        title: 'Throughput and errors per second',
        x: { label: 'second of the run' },
        y: { label: 'requests/s', min: 0 },
        xs,
        series: [
          { label: 'successful req/s', color: color(0), values: points.map((p) => p.requests - p.errors) },
          { label: 'errors/s', color: color(1), values: points.map((p) => p.errors) },
        ],
        shade,
        caption: `Requests completed in each second of wall clock, all ranks summed.${warm}`,
      },
    },
    {
      chart: {
        name: 'latency-over-time',
        title: 'Latency per second',
        x: { label: 'second of the run' },
        y: { label: 'ms', min: 0 },
        xs,
        series: [
          { label: 'p50 ms', color: color(0), values: points.map((p) => p.p50Ms) },
          { label: 'p99 ms (upper bound)', color: color(1), values: points.map((p) => p.p99Ms) },
        ],
        shade,
        caption: `Across ranks p50 is request-weighted and p99 the highest rank's, an upper bound; exact run-wide percentiles are in the tables.${warm}`,
      },
    },
  ];
}

/** One series per operation, plus "all" when there are several, each with the buckets `pick` finds. */
function perOperation(r: RunResult, pick: (o: OperationResult) => Buckets | undefined, all: Buckets | undefined): [string, Buckets][] {
  const ops = Object.entries(r.operations).flatMap(([op, o]): [string, Buckets][] => {
    const b = pick(o);
    return b ? [[op, b]] : [];
  });
  if (ops.length === 1 || !all) return ops;
  return ops.length > 1 ? [...ops, ['all', all]] : [['all', all]];
}

export const latencyChart = (r: RunResult): ChartBlock =>
  cdfChart('latency-distribution', 'Latency distribution', 'request latency', perOperation(r, (o) => o.buckets, r.buckets));

/** Each timing metric (ttft, itl, tpot, ttfb...) as a distribution. */
export function timingCharts(r: RunResult): ChartBlock[] {
  return Object.entries(r.metrics)
    .filter(([, m]) => m.kind === 'timing')
    .map(([name, m]) => {
      const entries = perOperation(r, (o) => o.metrics[name]?.buckets, m.buckets);
      return cdfChart(`${name}-distribution`, `${name} distribution${m.help ? ` (${m.help})` : ''}`, name, entries);
    });
}

const byX = <T>(rows: T[], x: (t: T) => number) => [...rows].sort((a, b) => x(a) - x(b));

/** A sweep's throughput/latency curve: one point per sweep point, p50, p99 and each timing's p99. */
export function sweepChart(rows: SweepRow[]): ChartBlock {
  if (rows.length === 0) return { noData: 'No data: the sweep ran no point.' };
  const sorted = byX(rows, (p) => p.throughput);
  const timings = [...new Set(rows.flatMap((p) => Object.keys(p.timings)))].sort();
  return {
    chart: {
      name: 'throughput-vs-latency',
      title: 'Throughput vs latency',
      x: { label: 'successful req/s' },
      y: { label: 'ms', min: 0 },
      xs: sorted.map((p) => p.throughput),
      series: [
        { label: 'p50 ms', color: color(0), values: sorted.map((p) => p.latencyP50Ms) },
        { label: 'p99 ms', color: color(1), values: sorted.map((p) => p.latencyP99Ms) },
        ...timings.map((t, i) => ({ label: `${t} p99 ms`, color: color(i + 2), values: sorted.map((p) => p.timings[t]?.p99 ?? null) })),
      ],
      caption: 'One marker per sweep point, ordered by the throughput it reached.',
      markers: true,
    },
  };
}

/** A value metric (recall) against throughput: one point per sweep point, or the run's one point. */
export function valueCharts(r: RunResult): ChartBlock[] {
  const rows: Pick<SweepRow, 'throughput' | 'values' | 'parameter'>[] = r.sweep
    ? r.sweep.points
    : [{ throughput: r.summary.throughput, values: Object.fromEntries(Object.entries(r.metrics).filter(([, m]) => m.kind === 'value').map(([n, m]) => [n, m])) }];
  const names = [...new Set(rows.flatMap((p) => Object.keys(p.values ?? {})))].sort();
  return names.map((name) => {
    const sorted = byX(rows.filter((p) => p.values?.[name]), (p) => p.throughput);
    if (sorted.length === 0) return { noData: `No data: no ${name} was recorded.` };
    const withInterval = sorted.some((p) => p.values![name].interval);
    const param = sorted[0].parameter?.name;
    return {
      chart: {
        name: chartName(`${name}-vs-qps`),
        title: `${name} vs QPS`,
        x: { label: 'successful req/s (QPS)' },
        y: { label: `${name} (mean)` },
        xs: sorted.map((p) => p.throughput),
        series: [
          { label: name, color: color(0), values: sorted.map((p) => p.values![name].mean) },
          ...(withInterval
            ? (['low', 'high'] as const).map((k) => ({ label: `${name} ${k}`, color: color(7), dash: true, values: sorted.map((p) => p.values![name].interval?.[k] ?? null) }))
            : []),
        ],
        caption:
          sorted.length === 1
            ? `This run's one point.`
            : `One marker per sweep point${param ? `, ${param} = ${sorted.map((p) => p.parameter?.value ?? '?').join(', ')} from left to right` : ''}.`,
        markers: true,
      },
    };
  });
}
