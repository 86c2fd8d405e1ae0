// Seeded vectors: uniform in [0, 1) per coordinate, or gaussian blobs around
// seeded centroids (closer to real embeddings, where neighbours cluster). The
// same seed gives the same vectors on every rank and every run.
import { createRng, deriveSeed, type Rng } from '../engine/rng.js';

export interface GeneratorSpec {
  dimension: number;
  distribution: 'uniform' | 'clustered';
  clusters: number;
  /** Standard deviation of each blob, per coordinate. */
  spread: number;
  seed: number;
}

/** Seed streams: base data and queries draw apart, sharing the centroids. */
export const STREAM = { centroids: 0, data: 1, queries: 2 } as const;

/** A stream of vectors; `next` continues where the last call stopped (base first, then the insert pool). */
export class VectorGenerator {
  private readonly rng: Rng;
  private readonly centroids: Float32Array;
  private spare: number | undefined;

  constructor(
    private readonly spec: GeneratorSpec,
    stream: number,
  ) {
    this.rng = createRng(deriveSeed(spec.seed, stream));
    const c = createRng(deriveSeed(spec.seed, STREAM.centroids));
    this.centroids = new Float32Array(spec.distribution === 'clustered' ? spec.clusters * spec.dimension : 0);
    for (let i = 0; i < this.centroids.length; i++) this.centroids[i] = c.next();
  }

  /** Writes `n` vectors into `out` from `offset` (in vectors). */
  fill(out: Float32Array, n: number, offset = 0): void {
    const d = this.spec.dimension;
    for (let v = 0; v < n; v++) {
      const base = (offset + v) * d;
      if (this.spec.distribution === 'uniform') {
        for (let j = 0; j < d; j++) out[base + j] = this.rng.next();
      } else {
        const c = Math.min(this.spec.clusters - 1, Math.floor(this.rng.next() * this.spec.clusters)) * d;
        for (let j = 0; j < d; j++) out[base + j] = this.centroids[c + j] + this.spec.spread * this.gaussian();
      }
    }
  }

  next(n: number): Float32Array {
    const out = new Float32Array(n * this.spec.dimension);
    this.fill(out, n);
    return out;
  }

  /** Standard normal by Box-Muller, the second value of each pair kept for the next call. */
  private gaussian(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.rng.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.rng.next();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

/** A label in 0..labels-1 for vector `id`: a pure function of (seed, id), so every rank and thread agrees without storing it. */
export function labelOf(seed: number, id: number, labels: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(id + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % labels;
}
