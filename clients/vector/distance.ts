// One "closeness score" for every metric, smaller meaning closer, so the ground
// truth, recall and the live truth never branch on the metric: squared L2 for
// l2, the negated inner product for ip and cosine (cosine vectors are unit length).
import type { VectorMetric } from './schema.js';

export type Score = (a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, dimension: number) => number;

function l2(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const x = a[ao + j] - b[bo + j];
    s += x * x;
  }
  return s;
}

function negDot(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += a[ao + j] * b[bo + j];
  return -s;
}

export function scoreFor(metric: VectorMetric): Score {
  return metric === 'l2' ? l2 : negDot;
}

/**
 * Scales each vector to unit length in place, for cosine: then every backend's
 * cosine and inner product agree, and Faiss (which has no cosine) uses ip. A
 * zero vector stays zero.
 */
export function normalize(vectors: Float32Array, dimension: number): void {
  for (let o = 0; o < vectors.length; o += dimension) {
    let s = 0;
    for (let j = 0; j < dimension; j++) s += vectors[o + j] * vectors[o + j];
    if (s === 0) continue;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < dimension; j++) vectors[o + j] *= inv;
  }
}

/**
 * A result this close to the k-th true neighbour's score counts as a tie. Both
 * scores are computed here in float64, but a backend ranks in float32, so of two
 * neighbours 1e-6 apart it may keep the "wrong" one: relative 1e-5 absorbs that.
 */
export function withinTie(score: number, threshold: number): boolean {
  return score <= threshold + 1e-5 * Math.abs(threshold) + 1e-9;
}
