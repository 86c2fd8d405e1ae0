// Seeded pseudo-random numbers (mulberry32) so a fixed seed replays the same
// arrivals, operation mix and sizes; Math.random cannot be reproduced.

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

/** mulberry32: 32-bit state, fast, and good enough for load shaping (not for crypto). */
export function createRng(seed: number): Rng {
  let state = hashSeed(seed);
  return {
    next() {
      state = (state + 0x6d2b79f5) | 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/**
 * Independent streams from one seed (e.g. arrivals vs. operation mix), so
 * drawing more of one never shifts the sequence of the other.
 */
export function deriveSeed(seed: number, stream: number): number {
  return hashSeed(Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b));
}

// splitmix-style finaliser: nearby seeds (1, 2, 3 for ranks) give unrelated states.
function hashSeed(seed: number): number {
  let h = (seed | 0) ^ 0x5bd1e995;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
