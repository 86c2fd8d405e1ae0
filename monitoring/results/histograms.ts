// Lossless merge of the ranks' HDR latency histograms (microseconds) and the
// statistics the results model needs from them: timing, percentiles, buckets.
import * as hdr from 'hdr-histogram-js';
import type { LatencyMs, Percentiles, PercentilesWithFailures, Timing } from './model.js';
import { ResultsError } from './errors.js';
import { withFailuresOf } from '../../clients/engine/histogram.js';

/** Same range as the runner's histograms: 1 us .. 1 hour, 3 significant digits. */
const HIST = { lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 } as const;

export { BUCKET_BOUNDS_S } from '../../api/runner-contract.js';
export { bucketsOf } from '../../clients/engine/histogram.js';

/** An empty histogram to merge into; 64-bit counts so long multi-rank runs cannot overflow. */
export function emptyHistogram(): hdr.Histogram {
  return hdr.build({ ...HIST, bitBucketSize: 64, autoResize: true });
}

/** Decodes one rank's histogram; a bad string becomes a ResultsError naming the file and key. */
export function decodeHistogram(encoded: string, file: string, key: string): hdr.Histogram {
  try {
    return hdr.decodeFromCompressedBase64(encoded);
  } catch (e) {
    throw new ResultsError(
      `corrupt result file ${file}: histogram "${key}" is not a compressed HDR histogram (${(e as Error).message}); rerun the benchmark`,
      { file, cause: e },
    );
  }
}

const US_PER_S = 1e6;
const US_PER_MS = 1e3;

function pct(h: hdr.Histogram, p: number): number {
  return h.totalCount === 0 ? 0 : h.getValueAtPercentile(p);
}

/** Smallest recorded value; HDR reports MAX_SAFE_INTEGER for an empty histogram, so guard it. */
function minOf(h: hdr.Histogram): number {
  return h.totalCount === 0 ? 0 : h.minNonZeroValue;
}

export function timingOf(h: hdr.Histogram): Timing {
  return {
    avg_duration: h.mean / US_PER_S,
    median_duration: pct(h, 50) / US_PER_S,
    min_duration: minOf(h) / US_PER_S,
    max_duration: h.maxValue / US_PER_S,
    stddev: h.stdDeviation / US_PER_S,
  };
}

function percentilesIn(h: hdr.Histogram, unit: number): Percentiles {
  return {
    p50: pct(h, 50) / unit,
    p90: pct(h, 90) / unit,
    p95: pct(h, 95) / unit,
    p99: pct(h, 99) / unit,
    p999: pct(h, 99.9) / unit,
  };
}

export const percentilesOf = (h: hdr.Histogram): Percentiles => percentilesIn(h, US_PER_S);

/**
 * Percentiles when `failures` more requests count as infinitely slow (MLPerf's
 * rule: a server that fails requests must not look faster). Null where the
 * failures fill the percentile, and for a run with nothing in it. `scale` is
 * HDR units per output unit.
 */
export const percentilesWithFailures = withFailuresOf;

export function latencyMsOf(h: hdr.Histogram): LatencyMs {
  return { ...percentilesIn(h, US_PER_MS), min: minOf(h) / US_PER_MS, mean: h.mean / US_PER_MS, max: h.maxValue / US_PER_MS };
}

