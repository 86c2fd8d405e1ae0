// Everything a vector workload needs before its first request, from its
// settings: base vectors, queries, labels, the pool inserts draw from, which
// queries are scored, and their ground truth (a file, or brute force), with
// how long loading and the truth took. Vectors sit in SharedArrayBuffers so a
// backend's worker threads read them without a copy.
import { performance } from 'node:perf_hooks';
import { createRng, deriveSeed } from '../engine/rng.js';
import { normalize, scoreFor, type Score } from './distance.js';
import { labelOf, STREAM, VectorGenerator } from './generate.js';
import { bruteForce, TopList } from './ground-truth.js';
import { LiveTruth } from './live-truth.js';
import { DEFAULT_COUNT, DEFAULT_SCORED, type VectorMetric, type VectorSettings } from './schema.js';
import { openVecs, readVecs, VecsFileError, type VecsFile } from './vecs-file.js';

/** Room in each truth list beyond k: for writes that overlap a search, and deletions before a rebuild. */
export const TRUTH_SLACK = 48;

export interface VectorDataset {
  dimension: number;
  metric: VectorMetric;
  score: Score;
  /** Base vectors, row-major; ids are row numbers 0..count-1. Unit length for cosine. */
  base: Float32Array;
  count: number;
  queries: Float32Array;
  queryCount: number;
  /** With `filter`: the label of vector `id` and the label query `q` filters on. */
  labels?: { count: number; of: (id: number) => number; ofQuery: (q: number) => number };
  /** The scored queries' truth, kept up to date as writes are acknowledged. */
  truth: LiveTruth;
  /** Fewer queries scored than there are (queries.sample): recall is an estimate with an interval. */
  sampled: boolean;
  groundTruth: 'file' | 'brute force';
  /** Vectors for inserts and updates, continuing the data past the base. */
  pool: InsertPool;
  /** Reading or generating base vectors and queries. */
  loadMs: number;
  /** Reading or computing the ground truth. */
  truthMs: number;
}

export class DatasetError extends Error {}

const shared = (values: number): Float32Array => new Float32Array(new SharedArrayBuffer(values * 4));

/** New vectors for inserts, with fresh ids after the base (count, count + 1, ...). */
export class InsertPool {
  private nextId: number;
  private fileNext: number;

  constructor(
    private readonly dimension: number,
    private readonly count: number,
    private readonly metric: VectorMetric,
    private readonly source: { generator: VectorGenerator } | { file: VecsFile },
  ) {
    this.nextId = count;
    this.fileNext = count;
  }

  take(n: number): { ids: number[]; vectors: Float32Array } {
    const d = this.dimension;
    let vectors: Float32Array;
    if ('generator' in this.source) {
      vectors = this.source.generator.next(n);
    } else {
      const file = this.source.file;
      if (this.fileNext + n > file.count) {
        throw new Error(`no vectors left to insert: data.file ${file.path} has ${file.count}, data.count loads ${this.count} and inserts took ${this.fileNext - this.count}; lower data.count to leave more for inserts`);
      }
      vectors = readVecs(file, this.fileNext, n, new Float32Array(n * d));
      this.fileNext += n;
    }
    if (this.metric === 'cosine') normalize(vectors, d);
    const ids = Array.from({ length: n }, () => this.nextId++);
    return { ids, vectors };
  }
}

function checkDimension(file: VecsFile, dimension: number, field: string): void {
  if (file.dimension !== dimension) {
    throw new DatasetError(`${field}: ${file.path} holds vectors of dimension ${file.dimension}; workload.dimension is ${dimension}: set it to ${file.dimension}`);
  }
}

function opened(path: string, field: string): VecsFile {
  try {
    return openVecs(path);
  } catch (e) {
    throw new DatasetError(`${field}: ${(e as Error).message}`);
  }
}

function read(file: VecsFile, n: number, field: string): Float32Array {
  try {
    return readVecs(file, 0, n, shared(n * file.dimension));
  } catch (e) {
    if (e instanceof VecsFileError) throw new DatasetError(`${field}: ${e.message}`);
    throw e;
  }
}

/**
 * The files' problems, from their headers and sizes only (cheap enough for a
 * workload's preflight, at every change of the resource): missing, truncated,
 * of another dimension, too few ground-truth neighbours. Paths start at `workload.`.
 */
export function vectorFileProblems(w: VectorSettings): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const check = (path: string | undefined, field: string, kinds: readonly string[]): VecsFile | undefined => {
    if (!path) return undefined;
    try {
      const f = openVecs(path);
      if (!kinds.includes(f.kind)) throw new DatasetError(`${path} is a .${f.kind} file; this field takes ${kinds.map((k) => `.${k}`).join(' or ')}`);
      if (f.kind !== 'ivecs') checkDimension(f, w.dimension, field);
      return f;
    } catch (e) {
      problems.push({ path: field, message: (e as Error).message.replace(`${field}: `, '') });
      return undefined;
    }
  };
  const base = check(w.data.file, 'workload.data.file', ['fvecs', 'bvecs']);
  if (base && w.data.count !== undefined && w.data.count > base.count) problems.push({ path: 'workload.data.count', message: `${base.path} holds ${base.count} vectors; ${w.data.count} were asked for` });
  const queries = check(w.queries.file, 'workload.queries.file', ['fvecs', 'bvecs']);
  const gt = check(w.queries.groundTruth, 'workload.queries.groundTruth', ['ivecs']);
  if (gt && gt.dimension < w.searchK) problems.push({ path: 'workload.queries.groundTruth', message: `${gt.path} lists ${gt.dimension} neighbours per query; searchK ${w.searchK} needs at least ${w.searchK}` });
  if (gt && queries && gt.count < queries.count) problems.push({ path: 'workload.queries.groundTruth', message: `${gt.path} has ${gt.count} rows for the ${queries.count} queries of ${queries.path}; it needs one per query` });
  return problems;
}

/** A seeded sample of m of n indices, ascending. */
export function sampleIndices(n: number, m: number, seed: number): number[] {
  if (m >= n) return Array.from({ length: n }, (_, i) => i);
  const rng = createRng(deriveSeed(seed, 3));
  const pool = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rng.next() * (n - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, m).sort((a, b) => a - b);
}

/** Loads a workload's vectors and computes or reads its ground truth. Throws DatasetError naming the field. */
export function loadDataset(w: VectorSettings): VectorDataset {
  const d = w.dimension;
  const t0 = performance.now();
  const gen = { dimension: d, distribution: w.data.distribution, clusters: w.data.clusters, spread: w.data.spread, seed: w.data.seed };

  let base: Float32Array;
  let count: number;
  let pool: InsertPool;
  if (w.data.file) {
    const file = opened(w.data.file, 'workload.data.file');
    checkDimension(file, d, 'workload.data.file');
    count = w.data.count ?? file.count;
    if (count > file.count) throw new DatasetError(`workload.data.count: ${w.data.file} holds ${file.count} vectors; ${count} were asked for`);
    base = read(file, count, 'workload.data.file');
    pool = new InsertPool(d, count, w.metric, { file });
  } else {
    count = w.data.count ?? DEFAULT_COUNT;
    const generator = new VectorGenerator(gen, STREAM.data);
    base = shared(count * d);
    generator.fill(base, count);
    pool = new InsertPool(d, count, w.metric, { generator });
  }

  let queries: Float32Array;
  let queryCount: number;
  if (w.queries.file) {
    const file = opened(w.queries.file, 'workload.queries.file');
    checkDimension(file, d, 'workload.queries.file');
    queryCount = file.count;
    queries = read(file, queryCount, 'workload.queries.file');
  } else {
    queryCount = w.queries.count;
    queries = shared(queryCount * d);
    new VectorGenerator(gen, STREAM.queries).fill(queries, queryCount);
  }
  if (w.metric === 'cosine') {
    normalize(base, d);
    normalize(queries, d);
  }
  const loadMs = performance.now() - t0;

  const t1 = performance.now();
  const score = scoreFor(w.metric);
  const k = w.searchK;
  if (k > count) throw new DatasetError(`workload.searchK: ${k} neighbours were asked for, but only ${count} vectors are loaded; lower searchK or raise data.count`);
  const capacity = k + TRUTH_SLACK;
  const fromFile = w.queries.groundTruth !== undefined;
  const scoredCount = Math.min(queryCount, w.queries.sample ?? (fromFile ? queryCount : DEFAULT_SCORED));
  const scored = sampleIndices(queryCount, scoredCount, w.data.seed);

  const labels = w.filter
    ? (() => {
        const { labels: n, seed } = w.filter;
        return { count: n, of: (id: number) => labelOf(seed, id, n), ofQuery: (q: number) => labelOf(seed + 1, q, n) };
      })()
    : undefined;

  let plain: TopList[];
  if (fromFile) {
    plain = truthFromFile(w.queries.groundTruth!, scored, queryCount, k, capacity, count, (q, id) => score(queries, q * d, base, id * d, d));
  } else {
    plain = scored.map((q) => bruteForce(queries, q * d, [{ vectors: base, rows: count }], d, score, capacity));
  }
  const filtered =
    labels && (w.operationMix.filteredSearch ?? 0) > 0
      ? scored.map((q) => {
          const want = labels.ofQuery(q);
          return bruteForce(queries, q * d, [{ vectors: base, rows: count }], d, score, capacity, (id) => labels.of(id) === want);
        })
      : undefined;
  const truth = new LiveTruth({ dimension: d, score, base, count, queries, scored, k, capacity, plain, filtered, labelOf: labels?.of, queryLabelOf: labels?.ofQuery });
  const truthMs = performance.now() - t1;

  return {
    dimension: d,
    metric: w.metric,
    score,
    base,
    count,
    queries,
    queryCount,
    labels,
    truth,
    sampled: scoredCount < queryCount,
    groundTruth: fromFile ? 'file' : 'brute force',
    pool,
    loadMs,
    truthMs,
  };
}

/** The scored queries' neighbours from an .ivecs file, rescored here (the file has ids, not distances). */
function truthFromFile(path: string, scored: number[], queryCount: number, k: number, capacity: number, count: number, scoreOf: (q: number, id: number) => number): TopList[] {
  const field = 'workload.queries.groundTruth';
  const file = opened(path, field);
  if (file.kind !== 'ivecs') throw new DatasetError(`${field}: ${path} must be an .ivecs file (ids of each query's nearest neighbours)`);
  if (file.count < queryCount) throw new DatasetError(`${field}: ${path} has ${file.count} rows for ${queryCount} queries; it must have one row per query, in the query file's order`);
  if (file.dimension < k) throw new DatasetError(`${field}: ${path} lists ${file.dimension} neighbours per query; searchK ${k} needs at least ${k}`);
  const rows = readVecs(file, 0, queryCount, new Int32Array(queryCount * file.dimension));
  const keep = Math.min(capacity, file.dimension);
  return scored.map((q) => {
    const list = new TopList(keep);
    for (let j = 0; j < keep; j++) {
      const id = rows[q * file.dimension + j];
      if (id < 0 || id >= count) {
        throw new DatasetError(
          `${field}: row ${q} names vector ${id}, but only ids 0..${count - 1} are loaded; a ground-truth file covers its whole base file, so drop data.count (or the ground-truth file)`,
        );
      }
      list.offer(id, scoreOf(q, id));
    }
    // The file lists the nearest `keep` of the base, not every vector: what lies beyond is unknown.
    list.complete = false;
    return list;
  });
}
