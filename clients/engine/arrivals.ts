// Open-loop arrival strategies: each yields the intended send times (ms since
// the run started) of successive requests; the engine sleeps until each one.
import type { Load } from '../../api/schemas.js';
import type { Rng } from './rng.js';

export interface Arrivals {
  /** Intended send time of the next request, in ms since the run started; non-decreasing. */
  next(): number;
}

/** Builds a schedule from a gap generator; the first request goes at t = 0. */
function fromGaps(gap: () => number): Arrivals {
  let t = 0;
  let first = true;
  return {
    next() {
      if (first) {
        first = false;
        return t;
      }
      t += gap();
      return t;
    },
  };
}

function checkRate(rate: number): void {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new Error(`load.rate must be a positive number of requests per second, got ${rate}`);
}

/** Evenly spaced: one request every 1000/rate ms. */
export function constantArrivals(rate: number): Arrivals {
  checkRate(rate);
  const gap = 1000 / rate;
  let i = 0;
  // Multiplying instead of summing keeps float error from drifting over hours.
  return { next: () => i++ * gap };
}

/** Poisson process: exponential gaps with mean 1000/rate ms. */
export function poissonArrivals(rate: number, rng: Rng): Arrivals {
  checkRate(rate);
  const mean = 1000 / rate;
  return fromGaps(() => -Math.log(1 - rng.next()) * mean);
}

/**
 * Gamma-distributed gaps with mean 1000/rate ms and coefficient of variation
 * `burstiness` (shape k = 1/CV^2): CV 1 is Poisson, above 1 clusters requests
 * into bursts, below 1 is more regular.
 */
export function gammaArrivals(rate: number, burstiness: number, rng: Rng): Arrivals {
  checkRate(rate);
  if (!(burstiness > 0) || !Number.isFinite(burstiness)) throw new Error(`load.burstiness must be a positive number, got ${burstiness}`);
  const shape = 1 / (burstiness * burstiness);
  const scale = 1000 / rate / shape;
  return fromGaps(() => sampleGamma(shape, rng) * scale);
}

/** The schedule a Load asks for, at this rank's share of the rate. */
export function createArrivals(load: Pick<Load, 'arrival' | 'burstiness'>, rate: number, rng: Rng): Arrivals {
  switch (load.arrival) {
    case 'constant':
      return constantArrivals(rate);
    case 'poisson':
      return poissonArrivals(rate, rng);
    case 'gamma':
      return gammaArrivals(rate, load.burstiness, rng);
  }
}

/** Standard normal by Box-Muller (one of the pair is enough here). */
function sampleNormal(rng: Rng): number {
  const u1 = 1 - rng.next(); // (0, 1], so log never sees 0
  const u2 = rng.next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Gamma(shape, 1) by Marsaglia-Tsang; shape < 1 boosted via Gamma(k+1) * U^(1/k). */
export function sampleGamma(shape: number, rng: Rng): number {
  if (shape < 1) {
    const u = 1 - rng.next();
    return sampleGamma(shape + 1, rng) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}
