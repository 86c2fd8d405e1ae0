// HDR latency histograms in microseconds (hdr-histogram-js): one per operation,
// one for "all" and one for send lag; merge losslessly across ranks.
import * as hdr from 'hdr-histogram-js';
import type { RankHistograms } from '../../api/runner-contract.js';

export type Histogram = hdr.Histogram;

/** One hour in microseconds: anything slower is clamped rather than lost. */
export const HIGHEST_TRACKABLE_US = 3_600_000_000;

export function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_TRACKABLE_US, numberOfSignificantValueDigits: 3 });
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
  return h.totalCount === 0 ? 0 : h.mean / 1000;
}

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

export const ALL = 'all';
export const SEND_LAG = 'sendLag';

/**
 * The per-rank set: one histogram per operation (preallocated from the
 * client's operation list), "all", and the intended-vs-actual send lag.
 */
export class LatencyHistograms {
  readonly all = newHistogram();
  readonly sendLag = newHistogram();
  private readonly byOp = new Map<string, Histogram>();

  constructor(operations: readonly string[]) {
    for (const op of operations) this.byOp.set(op, newHistogram());
  }

  record(op: string, latencyMs: number): void {
    recordMs(this.forOp(op), latencyMs);
    recordMs(this.all, latencyMs);
  }

  recordSendLag(lagMs: number): void {
    recordMs(this.sendLag, lagMs);
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

  /** The contract's `rank-N.histograms.json` content. */
  encode(): RankHistograms {
    const out: RankHistograms = {};
    for (const [op, h] of this.byOp) out[op] = encodeHistogram(h);
    out[ALL] = encodeHistogram(this.all);
    out[SEND_LAG] = encodeHistogram(this.sendLag);
    return out;
  }
}
