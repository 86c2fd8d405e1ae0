// The ground truth of a collection that changes while it is searched. It keeps
// the live set (base vectors, inserted ones, deletions) and, for each scored
// query, its closest `capacity` live vectors, updated as each write is
// acknowledged, so a search is scored against what the collection held then.
//
// Writes in flight make the truth uncertain: a search that overlaps an insert
// may or may not see it, and both are right. So a search's score allows the
// writes that overlapped it (begun before it ended, not acknowledged before it
// began): their vectors count as found, and the threshold moves from the k-th
// true neighbour to the (k + overlapping)-th. With nothing overlapping (a
// search-only load) the score is exact recall@k. The logical clock (`tick`)
// orders begins and ends; wall time is not needed.
import { bruteForce, TopList, type CandidateRows } from './ground-truth.js';
import type { Score } from './distance.js';
import { recallAt } from './recall.js';

export interface LiveTruthOptions {
  dimension: number;
  score: Score;
  /** Base vectors, ids 0..count-1. */
  base: Float32Array;
  count: number;
  queries: Float32Array;
  /** Indices into `queries` whose recall is scored. */
  scored: readonly number[];
  k: number;
  /** Neighbours kept per query: k, plus room for overlapping writes and deletions. */
  capacity: number;
  /** The closest `capacity` base vectors per scored query (file or brute force), in `scored` order. */
  plain: TopList[];
  /** Filtered search: the same, among vectors with the query's label. */
  filtered?: TopList[];
  labelOf?: (id: number) => number;
  queryLabelOf?: (query: number) => number;
}

interface Write {
  ids: readonly number[];
  /** Inserts: the new vectors; deletes: the vectors removed (a search that overlaps may still return them). */
  vectors: Float32Array;
  kind: 'insert' | 'delete';
  start: number;
  end?: number;
}

export interface WriteToken {
  readonly write: Write;
}

export interface SearchToken {
  readonly start: number;
}

export class LiveTruth {
  private tick = 0;
  private readonly deleted = new Set<number>();
  /** Inserted vectors, appended; a row whose id was deleted or rewritten has id -1. */
  private appended = new Float32Array(0);
  private appendedIds: number[] = [];
  private readonly rowOf = new Map<number, number>();
  private readonly writes: Write[] = [];
  private readonly searches = new Set<SearchToken>();
  private readonly versions: Uint32Array;
  /** Per point: the version at which each list was last scored (`dedupe`). */
  private readonly scoredAt = new Map<TopList, number>();
  private readonly position = new Map<number, number>();

  constructor(private readonly o: LiveTruthOptions) {
    this.versions = new Uint32Array(o.scored.length * 2);
    o.scored.forEach((q, i) => this.position.set(q, i));
  }

  get scored(): readonly number[] {
    return this.o.scored;
  }

  /** Live vectors now (acknowledged writes only). */
  get liveCount(): number {
    let n = this.o.count;
    for (const id of this.deleted) if (id < this.o.count) n--;
    for (const id of this.appendedIds) if (id >= this.o.count) n++;
    return n;
  }

  isLive(id: number): boolean {
    return !this.deleted.has(id) && (this.rowOf.has(id) || (id >= 0 && id < this.o.count));
  }

  /** A copy of the vector `id` holds now, or undefined when it is not live. */
  vectorOf(id: number): Float32Array | undefined {
    const d = this.o.dimension;
    if (this.deleted.has(id)) return undefined;
    const row = this.rowOf.get(id);
    if (row !== undefined) return this.appended.slice(row * d, (row + 1) * d);
    return id >= 0 && id < this.o.count ? this.o.base.slice(id * d, (id + 1) * d) : undefined;
  }

  /** Before sending an insert (or an update's new vectors) of `ids`. */
  beginInsert(ids: readonly number[], vectors: Float32Array): WriteToken {
    return this.begin({ ids, vectors, kind: 'insert', start: ++this.tick });
  }

  /** Before sending a delete (or an update's removal) of live `ids`. */
  beginDelete(ids: readonly number[]): WriteToken {
    const d = this.o.dimension;
    const vectors = new Float32Array(ids.length * d);
    ids.forEach((id, i) => {
      const v = this.vectorOf(id);
      if (v) vectors.set(v, i * d);
    });
    return this.begin({ ids, vectors, kind: 'delete', start: ++this.tick });
  }

  /** When the backend answered: `ok` applies the write to the truth; a failed write leaves it as it was. */
  end(token: WriteToken, ok: boolean): void {
    const w = token.write;
    w.end = ++this.tick;
    if (ok) {
      if (w.kind === 'insert') this.applyInsert(w);
      else this.applyDelete(w.ids);
    }
    if (!ok) this.writes.splice(this.writes.indexOf(w), 1);
    this.prune();
  }

  beginSearch(): SearchToken {
    const t = { start: ++this.tick };
    this.searches.add(t);
    return t;
  }

  endSearch(token: SearchToken): void {
    this.searches.delete(token);
  }

  /**
   * recall@k of `result` for the scored query `query`, or undefined when the
   * query is not scored, has nothing to find, or (with `dedupe`) was already
   * scored in this point against the same truth: a repeat adds no information
   * and would narrow the confidence interval falsely.
   */
  score(token: SearchToken, query: number, filtered: boolean, result: ArrayLike<number>, dedupe = true): number | undefined {
    const i = this.position.get(query);
    if (i === undefined) return undefined;
    const list = filtered ? this.o.filtered?.[i] : this.o.plain[i];
    if (!list) throw new Error(`LiveTruth: no ${filtered ? 'filtered' : 'plain'} truth for query ${query}`);
    const overlapping = this.overlapping(token);
    const slack = Math.min(overlapping.ids.length, this.o.capacity - this.o.k);
    if (!list.complete && list.ids.length < this.o.k + slack) this.recompute(query, filtered, list, i);
    const slot = i * 2 + (filtered ? 1 : 0);
    if (dedupe && this.scoredAt.get(list) === this.versions[slot]) return undefined;
    const d = this.o.dimension;
    const label = filtered ? this.o.queryLabelOf?.(query) : undefined;
    const scoreOf = (id: number): number | undefined => {
      if (label !== undefined && this.o.labelOf?.(id) !== label) return undefined;
      // An update in flight: the answer may hold the id's old vector or its new one, so the closer of the two counts.
      let best: number | undefined;
      for (const v of [this.vectorOf(id), overlapping.vectorOf(id)]) {
        if (!v) continue;
        const s = this.o.score(this.o.queries, query * d, v, 0, d);
        if (best === undefined || s < best) best = s;
      }
      return best;
    };
    const r = recallAt(this.o.k, list, result, scoreOf, slack);
    if (r !== undefined && dedupe) this.scoredAt.set(list, this.versions[slot]);
    return r;
  }

  /** Starts a new point: every query may be scored again. */
  resetScoring(): void {
    this.scoredAt.clear();
  }

  private begin(w: Write): WriteToken {
    this.writes.push(w);
    return { write: w };
  }

  /** The writes that overlapped a search: begun before now, not acknowledged before it began. */
  private overlapping(token: SearchToken): { ids: number[]; vectorOf: (id: number) => Float32Array | undefined } {
    const ids: number[] = [];
    const found = new Map<number, Float32Array>();
    const d = this.o.dimension;
    for (const w of this.writes) {
      if (w.end !== undefined && w.end < token.start) continue;
      w.ids.forEach((id, j) => {
        ids.push(id);
        found.set(id, w.vectors.subarray(j * d, (j + 1) * d));
      });
    }
    return { ids, vectorOf: (id) => found.get(id) };
  }

  private applyInsert(w: Write): void {
    const d = this.o.dimension;
    for (let j = 0; j < w.ids.length; j++) {
      const id = w.ids[j];
      // An update rewrites an id: its old vector leaves every list first.
      if (this.isLive(id)) this.applyDelete([id]);
      this.deleted.delete(id);
      const row = this.appendedIds.length;
      if ((row + 1) * d > this.appended.length) {
        const grown = new Float32Array(Math.max(1024 * d, this.appended.length * 2));
        grown.set(this.appended);
        this.appended = grown;
      }
      this.appended.set(w.vectors.subarray(j * d, (j + 1) * d), row * d);
      this.appendedIds.push(id);
      this.rowOf.set(id, row);
      this.o.scored.forEach((q, i) => {
        const s = this.o.score(this.o.queries, q * d, this.appended, row * d, d);
        if (offerLive(this.o.plain[i], id, s)) this.versions[i * 2]++;
        const f = this.o.filtered?.[i];
        if (f && this.o.labelOf?.(id) === this.o.queryLabelOf?.(q) && offerLive(f, id, s)) this.versions[i * 2 + 1]++;
      });
    }
  }

  private applyDelete(ids: readonly number[]): void {
    for (const id of ids) {
      if (!this.isLive(id)) continue;
      const row = this.rowOf.get(id);
      if (row !== undefined) {
        this.appendedIds[row] = -1;
        this.rowOf.delete(id);
        if (id >= this.o.count) continue;
      }
      this.deleted.add(id);
    }
    for (const id of ids) {
      this.o.scored.forEach((_, i) => {
        if (this.o.plain[i].remove(id)) this.versions[i * 2]++;
        if (this.o.filtered?.[i]?.remove(id)) this.versions[i * 2 + 1]++;
      });
    }
  }

  /** Rebuilds a list that deletions left too short, by brute force over the live set. */
  private recompute(query: number, filtered: boolean, list: TopList, i: number): void {
    const d = this.o.dimension;
    const label = filtered ? this.o.queryLabelOf?.(query) : undefined;
    const parts: CandidateRows[] = [
      // A base id that was deleted, or rewritten by an update (its vector now in an appended row), is no candidate here.
      { vectors: this.o.base, rows: this.o.count, idOf: (r) => (this.deleted.has(r) || this.rowOf.has(r) ? -1 : r) },
      { vectors: this.appended, rows: this.appendedIds.length, idOf: (r) => this.appendedIds[r] },
    ];
    const fresh = bruteForce(this.o.queries, query * d, parts, d, this.o.score, this.o.capacity, (id) => id >= 0 && (label === undefined || this.o.labelOf?.(id) === label));
    list.ids = fresh.ids;
    list.scores = fresh.scores;
    list.complete = fresh.complete;
    this.versions[i * 2 + (filtered ? 1 : 0)]++;
  }

  /** Forgets writes no search can overlap any more. */
  private prune(): void {
    if (this.writes.length < 64) return;
    let oldest = this.tick;
    for (const s of this.searches) oldest = Math.min(oldest, s.start);
    for (let i = this.writes.length - 1; i >= 0; i--) {
      const end = this.writes[i].end;
      if (end !== undefined && end < oldest) this.writes.splice(i, 1);
    }
  }
}

/**
 * Offers a newly live vector to a list that holds the closest of the live set:
 * a complete list takes any candidate; an incomplete one only a candidate closer
 * than its last, since what lies beyond its last is unknown.
 */
function offerLive(list: TopList, id: number, score: number): boolean {
  if (!list.complete && list.ids.length > 0 && !(score < list.scores[list.scores.length - 1])) return false;
  if (!list.complete && list.ids.length === 0) return false;
  return list.offer(id, score);
}
