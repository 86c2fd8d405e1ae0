// Exact nearest neighbours by brute force: every candidate scored against the
// query, the closest `capacity` kept. The reference every recall is measured
// against when no ground-truth file is given, and for filtered search always.
import type { Score } from './distance.js';
import type { Neighbours } from './recall.js';

/** The closest `capacity` seen so far, closest first. Ties keep the earlier id. */
export class TopList implements Neighbours {
  ids: number[] = [];
  scores: number[] = [];
  complete = true;

  constructor(readonly capacity: number) {}

  /** The score a candidate must beat to enter a full list. */
  get worst(): number {
    return this.ids.length < this.capacity ? Infinity : this.scores[this.scores.length - 1];
  }

  /** Adds a candidate when it is among the closest; true when the list changed. */
  offer(id: number, score: number): boolean {
    if (this.ids.length >= this.capacity && !(score < this.scores[this.scores.length - 1])) {
      this.complete = false;
      return false;
    }
    let lo = 0;
    let hi = this.scores.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.scores[mid] <= score) lo = mid + 1;
      else hi = mid;
    }
    this.ids.splice(lo, 0, id);
    this.scores.splice(lo, 0, score);
    if (this.ids.length > this.capacity) {
      this.ids.pop();
      this.scores.pop();
      this.complete = false;
    }
    return true;
  }

  /** Drops an id; true when it was there. What remains is still exactly the closest of what is left. */
  remove(id: number): boolean {
    const i = this.ids.indexOf(id);
    if (i < 0) return false;
    this.ids.splice(i, 1);
    this.scores.splice(i, 1);
    return true;
  }
}

/** Where brute force finds its candidates: row-major vectors with their ids. */
export interface CandidateRows {
  vectors: Float32Array;
  /** Rows in use (the array may be longer). */
  rows: number;
  /** Id of row r; the row number itself when absent. */
  idOf?: (row: number) => number;
}

/**
 * The `capacity` candidates closest to the query at `queries[qOffset..]`, over
 * every row of every part that `accept` lets through (a filter, the live set).
 */
export function bruteForce(
  query: Float32Array,
  qOffset: number,
  parts: readonly CandidateRows[],
  dimension: number,
  score: Score,
  capacity: number,
  accept?: (id: number) => boolean,
): TopList {
  const top = new TopList(capacity);
  for (const part of parts) {
    for (let r = 0; r < part.rows; r++) {
      const id = part.idOf ? part.idOf(r) : r;
      if (accept && !accept(id)) continue;
      const s = score(query, qOffset, part.vectors, r * dimension, dimension);
      // Checked here, not in offer(), to skip the call for the many that lose.
      if (s < top.worst) top.offer(id, s);
      else top.complete = false;
    }
  }
  return top;
}
