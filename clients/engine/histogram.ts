// HDR histograms (hdr-histogram-js): latency in microseconds per operation, for
// "all" and for send lag, and one per declared metric; merge losslessly across ranks.
import * as hdr from 'hdr-histogram-js';
import { metricScale, type MetricDecl } from '../../api/metrics.js';
import { BUCKET_BOUNDS_S, type BucketCounts, type LiveOperation, type OperationTotals, type RankHistograms } from '../../api/runner-contract.js';
import type { PercentilesWithFailures } from '../../api/slo.js';

export type Histogram = hdr.Histogram;

/** One hour in microseconds: anything slower is clamped rather than lost. */
export const HIGHEST_TRACKABLE_US = 3_600_000_000;

export function newHistogram(): Histogram {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_TRACKABLE_US, numberOfSignificantValueDigits: 3 });
  const shape = h as unknown as Shape;
  if (shape.unitMagnitude === 0 && shape.subBucketHalfCountMagnitude === SUB_BUCKET_HALF_MAGNITUDE) shape.countsArrayIndex = slotIndex;
  return h;
}

/** What newHistogram's histograms are: unit 1, three digits (1024 half sub-buckets, 2^10). */
const SUB_BUCKET_HALF_MAGNITUDE = 10;

interface Shape {
  unitMagnitude: number;
  subBucketHalfCountMagnitude: number;
  countsArrayIndex(value: number): number;
}

const libraryIndex = (hdr.build() as unknown as Shape).countsArrayIndex;

/**
 * The slot a value is counted in, as the library's countsArrayIndex computes
 * it for newHistogram's shape, in integer arithmetic. The library takes a
 * Math.log2 and two Math.pow on every record: eight records, about what one
 * streamed LLM request adds, took 840 ns that way and 75 this way (issue 13).
 * Values past 32 bits (never recorded: HIGHEST_TRACKABLE_US clamps) go to the library's.
 */
function slotIndex(this: Shape, value: number): number {
  if (!(value >= 0 && value <= 0xffffffff)) return libraryIndex.call(this, value);
  // The power of two above the 2048 values of bucket 0: floor(log2(value)) - 10, at least 0.
  const bucket = value < 2048 ? 0 : 21 - Math.clz32(value);
  return ((bucket + 1) << SUB_BUCKET_HALF_MAGNITUDE) + (value >>> bucket) - (1 << SUB_BUCKET_HALF_MAGNITUDE);
}

/** Records a latency given in ms (fractions kept to the microsecond). */
export function recordMs(h: Histogram, ms: number): void {
  const us = Math.round(ms * 1000);
  h.recordValue(us < 0 ? 0 : us > HIGHEST_TRACKABLE_US ? HIGHEST_TRACKABLE_US : us);
}

/** Value at `percentile` (0-100) in ms; 0 for an empty histogram. */
export function percentileMs(h: Histogram, percentile: number): number {
  return h.totalCount === 0 ? 0 : h.getValueAtPercentile(percentile) / 1000;
}

export function maxMs(h: Histogram): number {
  return h.totalCount === 0 ? 0 : h.maxValue / 1000;
}

export function meanMs(h: Histogram): number {
  return h.totalCount === 0 ? 0 : sumOf(h) / h.totalCount / 1000;
}

/** The slot-level view of a JS-backed histogram (what decode and build return here), which its public type hides. */
interface Slots {
  countsArrayIndex(value: number): number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
}

/**
 * Calls `fn` with each non-empty slot's highest and median equivalent values
 * and its count, in one plain pass: the library's iterator (behind its `mean`
 * too) took 5-30 ms a histogram, and the engine reads histograms once a second
 * in the middle of an open loop, where every millisecond the event loop is
 * busy is send lag.
 */
function forEachSlot(h: Histogram, fn: (top: number, mid: number, count: number) => void): void {
  if (h.totalCount === 0) return;
  const slots = h as unknown as Slots;
  const last = slots.countsArrayIndex(h.maxValue);
  for (let i = 0; i <= last; i++) {
    const n = slots.getCountAtIndex(i);
    if (n === 0) continue;
    const top = slots.highestEquivalentValue(slots.valueFromIndex(i));
    fn(top, slots.medianEquivalentValue(top), n);
  }
}

/** The sum of the recorded values, each at its slot's median equivalent value (as the library's mean counts them). */
function sumOf(h: Histogram): number {
  let sum = 0;
  forEachSlot(h, (_, mid, n) => (sum += mid * n));
  return sum;
}

/**
 * Cumulative counts at BUCKET_BOUNDS_S of a histogram in microseconds. A slot
 * of the HDR histogram is counted under a bound only when its highest
 * equivalent value is within it, so a bucket never claims a request that may
 * have been slower than its bound.
 */
export function bucketsOf(h: Histogram): BucketCounts {
  const boundsUs = BUCKET_BOUNDS_S.map((s) => s * 1e6);
  const counts = boundsUs.map(() => 0);
  let sumUs = 0;
  forEachSlot(h, (top, mid, n) => {
    for (let b = boundsUs.length - 1; b >= 0 && top <= boundsUs[b]; b--) counts[b] += n;
    sumUs += mid * n;
  });
  return { le: [...BUCKET_BOUNDS_S], counts, count: h.totalCount, sumSeconds: sumUs / 1e6 };
}

const withoutBounds = ({ counts, count, sumSeconds }: BucketCounts) => ({ counts, count, sumSeconds });

/** A new histogram holding every value of the inputs (ranks, seconds, runs). */
export function mergeHistograms(parts: Iterable<Histogram>): Histogram {
  const out = newHistogram();
  for (const p of parts) out.add(p);
  return out;
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded);
}

/**
 * The `percentile` (0..100) when `failures` more requests count as infinitely
 * slow (MLPerf's rule), in the histogram's units; null where the failures fill
 * the percentile or nothing was recorded.
 */
export function percentileWithFailures(h: Histogram, failures: number, percentile: number): number | null {
  const n = h.totalCount + failures;
  const rank = Math.max(1, Math.ceil((percentile / 100) * n));
  if (n === 0 || rank > h.totalCount) return null;
  // Half a rank below, so HDR's own ceil lands on `rank` whatever the float rounding.
  return h.getValueAtPercentile(((rank - 0.5) / h.totalCount) * 100);
}


/** The reports' five percentiles with `failures` counted as infinitely slow, in units of `scale` HDR units. */
export function withFailuresOf(h: Histogram, failures: number, scale: number): PercentilesWithFailures {
  const at = (p: number) => {
    const v = percentileWithFailures(h, failures, p);
    return v === null ? null : v / scale;
  };
  return { p50: at(50), p90: at(90), p95: at(95), p99: at(99), p999: at(99.9) };
}

export const ALL = 'all';

/** A declared metric's histogram and exact totals for one operation. */
export class MetricRecorder {
  readonly histogram = newHistogram();
  count = 0;
  sum = 0;
  private readonly scale: number;

  constructor(readonly decl: MetricDecl) {
    this.scale = metricScale(decl.kind);
  }

  record(value: number): void {
    this.recordTimes(value, 1);
  }

  /** `value` seen `times` times: one call into the histogram. */
  recordTimes(value: number, times: number): void {
    if (!Number.isFinite(value)) return;
    this.count += times;
    this.sum += value * times;
    const v = Math.round(value * this.scale);
    this.histogram.recordValueWithCount(v < 0 ? 0 : v > HIGHEST_TRACKABLE_US ? HIGHEST_TRACKABLE_US : v, times);
  }

  /**
   * Every value of a request's list (a streamed answer's inter-token gaps),
   * equal neighbours in one call: tokens that came in one read share a time
   * stamp, so most of a fast server's gaps are the same 0.
   */
  recordAll(values: readonly number[], shift: number): void {
    for (let i = 0; i < values.length; ) {
      const v = values[i];
      let j = i + 1;
      while (j < values.length && values[j] === v) j++;
      this.recordTimes(v + shift, j - i);
      i = j;
    }
  }
}

/**
 * The per-rank set: latency per operation (preallocated from the client's
 * operation list) and for "all", the intended-vs-actual send lag, and for each
 * operation one recorder per declared metric, made when first reported.
 */
export class RankHistogramSet {
  readonly all = newHistogram();
  readonly sendLag = newHistogram();
  private readonly byOp = new Map<string, Histogram>();
  private readonly metricsByOp = new Map<string, Map<string, MetricRecorder>>();
  private readonly decls: Map<string, MetricDecl>;

  constructor(operations: readonly string[], metrics: readonly MetricDecl[] = []) {
    for (const op of operations) this.byOp.set(op, newHistogram());
    this.decls = new Map(metrics.map((m) => [m.name, m]));
  }

  record(op: string, latencyMs: number): void {
    recordMs(this.forOp(op), latencyMs);
    recordMs(this.all, latencyMs);
  }

  recordSendLag(lagMs: number): void {
    recordMs(this.sendLag, lagMs);
  }

  /** The recorder for a declared metric of op; undefined for a name the client did not declare. */
  metric(op: string, name: string): MetricRecorder | undefined {
    let ops = this.metricsByOp.get(op);
    if (!ops) this.metricsByOp.set(op, (ops = new Map()));
    let r = ops.get(name);
    if (!r) {
      const decl = this.decls.get(name);
      if (!decl) return undefined;
      ops.set(name, (r = new MetricRecorder(decl)));
    }
    return r;
  }

  forOp(op: string): Histogram {
    let h = this.byOp.get(op);
    if (!h) {
      // Only reached for a name the client did not declare; bounded by its op set.
      h = newHistogram();
      this.byOp.set(op, h);
    }
    return h;
  }

  operations(): string[] {
    return [...this.byOp.keys()];
  }

  /** Each operation's measured window so far, for live metrics; `totals` are the engine's running counts. */
  live(totals: Record<string, OperationTotals>): Record<string, LiveOperation> {
    const out: Record<string, LiveOperation> = {};
    for (const [op, t] of Object.entries(totals)) {
      const metrics: LiveOperation['metrics'] = {};
      for (const [name, r] of this.metricsByOp.get(op) ?? []) {
        metrics[name] = { kind: r.decl.kind, count: r.count, sum: r.sum, ...(r.decl.kind === 'timing' ? { buckets: withoutBounds(bucketsOf(r.histogram)) } : {}) };
      }
      out[op] = { requests: t.requests, errors: t.errors, latency: withoutBounds(bucketsOf(this.forOp(op))), metrics };
    }
    return out;
  }

  /** Each declared metric over every operation: its histogram and exact totals. */
  metricsAcrossOps(): Map<string, { decl: MetricDecl; histogram: Histogram; count: number; sum: number }> {
    const out = new Map<string, { decl: MetricDecl; histogram: Histogram; count: number; sum: number }>();
    for (const recorders of this.metricsByOp.values()) {
      for (const [name, r] of recorders) {
        let m = out.get(name);
        if (!m) out.set(name, (m = { decl: r.decl, histogram: newHistogram(), count: 0, sum: 0 }));
        m.histogram.add(r.histogram);
        m.count += r.count;
        m.sum += r.sum;
      }
    }
    return out;
  }

  /** The contract's `rank-N.histograms.json` content. */
  encode(): RankHistograms {
    const latency: Record<string, string> = {};
    for (const [op, h] of this.byOp) latency[op] = encodeHistogram(h);
    latency[ALL] = encodeHistogram(this.all);
    const metrics: Record<string, Record<string, string>> = {};
    for (const [op, recorders] of this.metricsByOp) {
      if (recorders.size === 0) continue;
      metrics[op] = {};
      for (const [name, r] of recorders) metrics[op][name] = encodeHistogram(r.histogram);
    }
    return { latency, sendLag: encodeHistogram(this.sendLag), metrics };
  }
}
