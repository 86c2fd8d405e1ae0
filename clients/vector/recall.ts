// recall@k of one search against the ground truth, and the confidence interval
// of a mean recall. A result counts as found when it scores no worse than the
// k-th true neighbour (ties and float32 ranking included), as ann-benchmarks does.
import { wilsonInterval } from '../../api/metrics.js';
import { withinTie } from './distance.js';

export { wilsonInterval };

/** The nearest vectors to one query, closest first: ids and their scores (smaller is closer). */
export interface Neighbours {
  ids: number[];
  scores: number[];
  /** True when these are every candidate there is (a filter that matches fewer than the list holds). */
  complete: boolean;
}

/**
 * recall@k: the share of the k true neighbours the result found, or undefined
 * when there is nothing to find (a filter nobody matches).
 *
 * - A result id counts when `scoreOf` knows it (a live vector that passes the
 *   query's filter) and it scores within the threshold, each id once.
 * - The threshold is the k-th true neighbour's score, or the (k+slack)-th's when
 *   `slack` writes were in flight during the search: the backend may or may not
 *   have seen each of them, and either answer is right (see live-truth.ts).
 * - With fewer than k candidates in all (`complete`), recall is out of those.
 */
export function recallAt(k: number, truth: Neighbours, result: ArrayLike<number>, scoreOf: (id: number) => number | undefined, slack = 0): number | undefined {
  const expected = truth.complete ? Math.min(k, truth.ids.length) : k;
  if (expected === 0) return undefined;
  if (truth.ids.length < expected) throw new Error(`recallAt: the truth holds ${truth.ids.length} neighbours, ${expected} needed`);
  const threshold = truth.scores[Math.min(k + slack, truth.scores.length) - 1];
  const seen = new Set<number>();
  let hits = 0;
  for (let i = 0; i < Math.min(k, result.length); i++) {
    const id = result[i];
    if (id < 0 || seen.has(id)) continue; // Faiss pads a short answer with -1
    seen.add(id);
    const s = scoreOf(id);
    if (s !== undefined && withinTie(s, threshold)) hits++;
  }
  return Math.min(hits, expected) / expected;
}
