// Two runs side by side: per operation and declared metric, the difference of
// each number, with bootstrap intervals on the median and p99 from the stored HDR histograms.
import type * as hdr from 'hdr-histogram-js';
import { join } from 'node:path';
import { metricScale } from '../../api/metrics.js';
import {
  bootstrapQuantileDifference,
  DEFAULT_CONFIDENCE,
  DEFAULT_RESAMPLES,
  DEFAULT_SEED,
  distributionOf,
  type Distribution,
} from './bootstrap.js';
import { ResultsError } from './errors.js';
import { decodeHistogram, emptyHistogram } from './histograms.js';
import type { MetricStats, RunResult } from './model.js';
import { listRanks, readRank, readSweep } from './rank-files.js';

/** The operation key that means every operation together. */
export const ALL = 'all';

/** How B compares with A on one number where lower is better (latency). */
export type Verdict = 'faster' | 'slower' | 'no significant difference';
/** An operation or run whose median and p99 moved in opposite directions. */
export type CombinedVerdict = Verdict | 'mixed';

/** Each run's merged latency (per operation and "all") and timing-metric distributions, in ms. */
export interface RunDistributions {
  latency: Record<string, Distribution>;
  /** operation (or "all") -> timing metric -> distribution. */
  metrics: Record<string, Record<string, Distribution>>;
}

/**
 * Reads every rank's histograms in a run folder and merges them as the results
 * layer does (an "all" histogram where a rank wrote one, else the sum of its
 * operations). A sweep's folder gives the point its result describes.
 */
export async function readRunDistributions(runDir: string, sweepPrimary?: number): Promise<RunDistributions> {
  let dir = runDir;
  const sweep = await readSweep(runDir);
  if (sweep) {
    const point = sweep.points.find((p) => p.index === sweepPrimary) ?? sweep.points[sweep.points.length - 1];
    if (!point) throw new ResultsError(`the sweep in ${runDir} ran no point (${sweep.ended}); nothing to compare`, { file: runDir });
    dir = join(runDir, point.dir);
  }
  const { withSummary } = await listRanks(dir);
  if (withSummary.length === 0) throw new ResultsError(`no rank left a summary in ${dir}: no histograms to compare`, { file: dir });
  const latency = new Map<string, hdr.Histogram>();
  const metrics = new Map<string, Map<string, hdr.Histogram>>();
  const into = <K>(m: Map<K, hdr.Histogram>, key: K): hdr.Histogram => {
    let h = m.get(key);
    if (!h) m.set(key, (h = emptyHistogram()));
    return h;
  };
  for (const r of withSummary) {
    const rank = await readRank(dir, r);
    const lat = rank.histograms.latency;
    for (const [key, encoded] of Object.entries(lat)) {
      const h = decodeHistogram(encoded, rank.histogramsFile, key);
      into(latency, key).add(h);
      if (key !== ALL && lat[ALL] === undefined) into(latency, ALL).add(h);
    }
    const timings = new Set(rank.summary.metrics.filter((d) => d.kind === 'timing').map((d) => d.name));
    for (const [op, byName] of Object.entries(rank.histograms.metrics)) {
      for (const [name, encoded] of Object.entries(byName)) {
        if (!timings.has(name)) continue;
        const h = decodeHistogram(encoded, rank.histogramsFile, `${op}.${name}`);
        for (const key of [op, ALL]) {
          let m = metrics.get(key);
          if (!m) metrics.set(key, (m = new Map()));
          into(m, name).add(h);
        }
      }
    }
  }
  const ms = metricScale('timing');
  return {
    latency: Object.fromEntries([...latency].map(([k, h]) => [k, distributionOf(h, ms)])),
    metrics: Object.fromEntries([...metrics].map(([op, m]) => [op, Object.fromEntries([...m].map(([name, h]) => [name, distributionOf(h, ms)]))])),
  };
}

/** One run as compare sees it: its result and, when its folder still holds them, its histograms. */
export interface ComparedRun {
  result: RunResult;
  distributions?: RunDistributions;
}

export interface ComparisonRow {
  operation: string;
  /** `requests`, `throughput`, `mean`, `p50`, `p99`, `<metric> p50`, `<metric> p99`, `<metric>/s`, `<metric> mean`. */
  metric: string;
  unit: string;
  a: number | null;
  b: number | null;
  /** b - a. */
  delta: number | null;
  /** (b - a) / a * 100; null when a is 0 or missing. */
  deltaPercent: number | null;
  /** Bootstrap interval of b - a (medians and p99s only). */
  ci?: { low: number; high: number };
  verdict?: Verdict;
}

export interface OperationVerdict {
  operation: string;
  verdict: CombinedVerdict;
  /** What the verdict rests on, in words. */
  reason: string;
}

export interface RunInfo {
  runId: string;
  benchmark: string;
  startedAt: string;
  requests: number;
}

export interface Comparison {
  a: RunInfo;
  b: RunInfo;
  bootstrap: {
    /** False when a run's folder no longer holds its histograms: then there are no intervals. */
    available: boolean;
    resamples: number;
    seed: number;
    confidence: number;
    /** Values each resample draws per run (all its recorded requests for "all"). */
    draws: { a: number; b: number };
    method: string;
  };
  rows: ComparisonRow[];
  operations: OperationVerdict[];
  /** The "all" operation's verdict: the answer to "is B faster than A?". */
  overall: OperationVerdict;
  warnings: string[];
}

export interface CompareOptions {
  resamples?: number;
  seed?: number;
  confidence?: number;
}

export const BOOTSTRAP_METHOD =
  'percentile bootstrap: each resample draws as many values as the run recorded, with replacement, from its merged HDR histogram; a resample\'s median and p99 are drawn exactly as order statistics (Beta-distributed ranks through the histogram\'s inverse CDF), so no draw cap is needed';

const num = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

function row(operation: string, metric: string, unit: string, a: number | undefined, b: number | undefined): ComparisonRow {
  const av = num(a);
  const bv = num(b);
  const delta = av !== null && bv !== null ? bv - av : null;
  return { operation, metric, unit, a: av, b: bv, delta, deltaPercent: delta !== null && av !== null && av !== 0 ? (delta / av) * 100 : null };
}

export function verdictOf(ci: { low: number; high: number }): Verdict {
  if (ci.low > 0) return 'slower';
  if (ci.high < 0) return 'faster';
  return 'no significant difference';
}

/** One operation's figures, "all" included, read from a result. */
interface OpView {
  requests: number;
  throughput: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  metrics: Record<string, MetricStats>;
}

function opView(r: RunResult, op: string): OpView | undefined {
  if (op === ALL) {
    return { requests: r.summary.total_requests, throughput: r.summary.throughput, meanMs: r.latencyMs.mean, p50Ms: r.latencyMs.p50, p99Ms: r.latencyMs.p99, metrics: r.metrics };
  }
  const o = r.operations[op];
  return o && { requests: o.total_requests, throughput: o.throughput, meanMs: o.latencyMs.mean, p50Ms: o.latencyMs.p50, p99Ms: o.latencyMs.p99, metrics: o.metrics };
}

const sortedUnion = (...lists: string[][]): string[] => [...new Set(lists.flat())].sort();

/** Median and p99 verdicts of one operation, combined into one word. */
function combine(operation: string, p50: ComparisonRow | undefined, p99: ComparisonRow | undefined): OperationVerdict {
  const v50 = p50?.verdict;
  const v99 = p99?.verdict;
  if (!v50 && !v99) return { operation, verdict: 'no significant difference', reason: 'no confidence interval (a run lacks its histograms or its requests)' };
  const sig = [v50 && v50 !== 'no significant difference' ? ['median', v50] : undefined, v99 && v99 !== 'no significant difference' ? ['p99', v99] : undefined].filter(
    (x): x is [string, Verdict] => x !== undefined,
  );
  if (sig.length === 0) return { operation, verdict: 'no significant difference', reason: 'the intervals of the median and p99 differences both include 0' };
  if (sig.length === 2 && sig[0][1] !== sig[1][1]) return { operation, verdict: 'mixed', reason: `median ${sig[0][1]}, p99 ${sig[1][1]}` };
  const verdict = sig[0][1];
  const other = sig[0][0] === 'median' ? 'p99' : 'median';
  return { operation, verdict, reason: sig.length === 2 ? `median and p99 both ${verdict}` : `${sig[0][0]} ${verdict}; the ${other}'s interval includes 0` };
}

/**
 * Compares B with A: every row's delta is B - A, and a verdict says whether B
 * is faster, slower, or not significantly different (the bootstrap interval of
 * the difference includes 0). Deterministic for a given seed.
 */
export function compareRuns(a: ComparedRun, b: ComparedRun, opts: CompareOptions = {}): Comparison {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const seed = opts.seed ?? DEFAULT_SEED;
  const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
  const warnings: string[] = [];
  for (const [side, run] of [['A', a], ['B', b]] as const) {
    if (!run.distributions) warnings.push(`run ${side} (${run.result.runId}) has no histograms left in its run folder: deltas are shown without confidence intervals or verdicts`);
  }
  const da = a.distributions;
  const db = b.distributions;
  const boot = (operation: string, metric: string, p: number, x: Distribution | undefined, y: Distribution | undefined) =>
    x && y ? bootstrapQuantileDifference(x, y, p, { resamples, seed, confidence, stream: `${operation}/${metric}` }) : undefined;

  const withCi = (r: ComparisonRow, diff: ReturnType<typeof boot>): ComparisonRow => (diff ? { ...r, ci: { low: diff.low, high: diff.high }, verdict: verdictOf(diff) } : r);

  const opNames = sortedUnion(Object.keys(a.result.operations), Object.keys(b.result.operations));
  const rows: ComparisonRow[] = [];
  const operations: OperationVerdict[] = [];
  for (const op of [ALL, ...opNames.filter((o) => o !== ALL)]) {
    const va = opView(a.result, op);
    const vb = opView(b.result, op);
    if (!va || !vb) warnings.push(`operation ${op} ran only in run ${va ? 'A' : 'B'}`);
    const ha = da?.latency[op];
    const hb = db?.latency[op];
    rows.push(row(op, 'requests', 'requests', va?.requests, vb?.requests));
    rows.push(row(op, 'throughput', 'req/s', va?.throughput, vb?.throughput));
    rows.push(row(op, 'mean', 'ms', va?.meanMs, vb?.meanMs));
    const p50 = withCi(row(op, 'p50', 'ms', va?.p50Ms, vb?.p50Ms), boot(op, 'latency', 50, ha, hb));
    const p99 = withCi(row(op, 'p99', 'ms', va?.p99Ms, vb?.p99Ms), boot(op, 'latency', 99, ha, hb));
    rows.push(p50, p99);
    operations.push(combine(op, p50, p99));

    const ma = va?.metrics ?? {};
    const mb = vb?.metrics ?? {};
    for (const name of sortedUnion(Object.keys(ma), Object.keys(mb))) {
      const x = ma[name];
      const y = mb[name];
      const kind = (x ?? y)!.kind;
      const unit = (x ?? y)!.unit;
      if (kind === 'timing') {
        const xa = da?.metrics[op]?.[name];
        const xb = db?.metrics[op]?.[name];
        rows.push(withCi(row(op, `${name} p50`, unit, x?.p50, y?.p50), boot(op, name, 50, xa, xb)));
        rows.push(withCi(row(op, `${name} p99`, unit, x?.p99, y?.p99), boot(op, name, 99, xa, xb)));
      } else if (kind === 'count') {
        rows.push(row(op, `${name}/s`, `${unit}/s`, x?.perSecond, y?.perSecond));
      } else {
        rows.push(row(op, `${name} mean`, unit, x?.mean, y?.mean));
      }
    }
  }
  return {
    a: infoOf(a.result),
    b: infoOf(b.result),
    bootstrap: {
      available: da !== undefined && db !== undefined,
      resamples,
      seed,
      confidence,
      draws: { a: da?.latency[ALL]?.total ?? 0, b: db?.latency[ALL]?.total ?? 0 },
      method: BOOTSTRAP_METHOD,
    },
    rows,
    operations,
    overall: operations[0],
    warnings,
  };
}

const infoOf = (r: RunResult): RunInfo => ({ runId: r.runId, benchmark: r.benchmark, startedAt: r.startedAt, requests: r.summary.total_requests });

type Flat = Map<string, string>;

function flatten(v: unknown, prefix: string, out: Flat): Flat {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (v !== undefined) {
    out.set(prefix, JSON.stringify(v));
  }
  return out;
}

/**
 * How the two runs' load settings (spec.json `load` and `ranks`) differ, one
 * phrase per setting: `load.rate 50 -> 100`. Empty when they match.
 */
export function loadDifferences(specA: Record<string, unknown> | undefined, specB: Record<string, unknown> | undefined): string[] {
  const pick = (s: Record<string, unknown> | undefined) => flatten({ load: s?.load, ranks: s?.ranks }, '', new Map());
  const fa = pick(specA);
  const fb = pick(specB);
  const out: string[] = [];
  for (const key of sortedUnion([...fa.keys()], [...fb.keys()])) {
    const x = fa.get(key);
    const y = fb.get(key);
    if (x !== y) out.push(`${key} ${x ?? '<none>'} -> ${y ?? '<none>'}`);
  }
  return out;
}
