// The settings every vector-database workload shares (faiss, chromadb, weaviate):
// the guide's vector recipe (dimension, batch size, search k, operation mix) and
// where vectors, queries and ground truth come from. A workload spreads
// `vectorFields` into its own strictObject and adds its backend's settings.
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { Duration, Weights } from '../../api/fields.js';

/** What a vector workload can ask for; a backend lists the ones it supports. */
export const VECTOR_OPERATIONS = ['insert', 'search', 'filteredSearch', 'update', 'delete'] as const;
export type VectorOperation = (typeof VECTOR_OPERATIONS)[number];

/** l2: squared Euclidean; ip: inner product (larger is closer); cosine: inner product of unit vectors. */
export const VECTOR_METRICS = ['l2', 'ip', 'cosine'] as const;
export type VectorMetric = (typeof VECTOR_METRICS)[number];

// A relative path would be looked for in the runner's own run folder, on its node.
const AbsolutePath = z
  .string()
  .min(1)
  .refine((p) => isAbsolute(p), { message: 'must be an absolute path (/...): the runner reads it on its node, from its own run folder' });

/** The base vectors loaded before the run, and the pool that inserts draw from. */
export const VectorData = z.strictObject({
  /** Vectors loaded (and indexed) before the run starts. With a file: its first `count` vectors, or all of them. */
  count: z.number().int().positive().optional(),
  /** Seeded vectors: uniform in [0, 1) per coordinate, or gaussian blobs (sd `spread`) around `clusters` uniform centroids. */
  distribution: z.enum(['uniform', 'clustered']).default('clustered'),
  clusters: z.number().int().positive().default(16),
  spread: z.number().positive().default(0.05),
  seed: z.number().int().default(1),
  /** Instead of generating: a .fvecs or .bvecs file (SIFT/GIST format). Vectors after `count` feed inserts. */
  file: AbsolutePath.optional(),
});
export type VectorData = z.output<typeof VectorData>;

export const VectorQueries = z.strictObject({
  /** Generated queries (same distribution as the data, another seed stream); ignored with `file`. */
  count: z.number().int().positive().default(1000),
  /** A .fvecs or .bvecs file of queries; needed when data comes from a file. */
  file: AbsolutePath.optional(),
  /** An .ivecs file: per query, the ids of its nearest base vectors (e.g. sift_groundtruth.ivecs). Without it, brute force. */
  groundTruth: AbsolutePath.optional(),
  /**
   * Score recall on this many queries (a seeded sample) instead of all of them.
   * Default: all queries with a groundTruth file; at most 1000 by brute force.
   * A sampled score is reported with its confidence interval either way.
   */
  sample: z.number().int().positive().optional(),
});
export type VectorQueries = z.output<typeof VectorQueries>;

/** Metadata for filtered search: each vector gets a seeded label in 0..labels-1, each query one label to filter on. */
export const VectorFilter = z.strictObject({
  labels: z.number().int().min(2).max(1_000_000),
  seed: z.number().int().default(7),
});
export type VectorFilter = z.output<typeof VectorFilter>;

/** Inserts on a fixed schedule beside the load's own requests, with insert-to-searchable latency and recall checkpoints. */
export const VectorStreaming = z.strictObject({
  /** Inserts per second (each of batchSize vectors). */
  insertRate: z.number().positive(),
  /** A recall checkpoint (every scored query searched once) after this many streamed inserts. */
  checkpointEvery: z.number().int().positive().default(500),
  /** Between probe searches for a just-inserted vector. */
  probeInterval: Duration.default(5),
  /** A vector not found by then counts in notSearchable instead. */
  probeTimeout: Duration.default(10_000),
});
export type VectorStreaming = z.output<typeof VectorStreaming>;

/** The fields, to spread into a workload's z.strictObject next to `type` and its backend's own settings. */
export const vectorFields = {
  /** Vector length (the guide's `dimension`); a file's vectors must have it. */
  dimension: z.number().int().positive().max(65_536).default(128),
  metric: z.enum(VECTOR_METRICS).default('l2'),
  data: VectorData.default({ distribution: 'clustered', clusters: 16, spread: 0.05, seed: 1 }),
  queries: VectorQueries.default({ count: 1000 }),
  /** Neighbours per search, and the k of recall@k (the guide's `search_k`). */
  searchK: z.number().int().positive().max(1024).default(10),
  /** Vectors per insert or update request (the guide's `batch_size`). */
  batchSize: z.number().int().positive().max(100_000).default(1),
  /** Queries per search request. */
  queryBatch: z.number().int().positive().max(10_000).default(1),
  operationMix: Weights.default({ insert: 0.4, search: 0.6 }),
  filter: VectorFilter.optional(),
  streaming: VectorStreaming.optional(),
};

/** What vectorProblems needs of a workload: the spread fields. */
export type VectorSettings = z.output<z.ZodObject<typeof vectorFields>>;

/** Default base size when generating, and the cap on brute-force scored queries. */
export const DEFAULT_COUNT = 10_000;
export const DEFAULT_SCORED = 1000;

/**
 * Every problem with the shared fields at once, paths rooted at `workload`.
 * `supported` is what the backend can do (faiss cannot delete from HNSW).
 */
export function vectorProblems(w: VectorSettings, supported: readonly VectorOperation[]): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const ops = Object.keys(w.operationMix);
  const unknown = ops.filter((k) => !(VECTOR_OPERATIONS as readonly string[]).includes(k));
  if (unknown.length > 0) problems.push({ path: 'workload.operationMix', message: `unknown operation(s) ${unknown.join(', ')}; use ${VECTOR_OPERATIONS.join(', ')}` });
  const weighted = ops.filter((k) => (w.operationMix[k] ?? 0) > 0);
  const unsupported = weighted.filter((k) => (VECTOR_OPERATIONS as readonly string[]).includes(k) && !supported.includes(k as VectorOperation));
  if (unsupported.length > 0) problems.push({ path: 'workload.operationMix', message: `${unsupported.join(', ')} cannot run here; this backend supports ${supported.join(', ')}` });
  if ((w.operationMix.filteredSearch ?? 0) > 0 && !w.filter) {
    problems.push({ path: 'workload.filter', message: 'filteredSearch needs labels to filter on: set filter: { labels: 10 } (each vector gets one of 10 labels)' });
  }
  if (w.data.file && !w.queries.file) problems.push({ path: 'workload.queries.file', message: 'vectors from data.file need queries from a file of the same kind (e.g. sift_query.fvecs beside sift_base.fvecs)' });
  if (w.queries.groundTruth && !w.queries.file) problems.push({ path: 'workload.queries.groundTruth', message: 'a ground-truth file belongs to a query file: set queries.file too' });
  if (w.queries.groundTruth && w.filter) {
    problems.push({ path: 'workload.queries.groundTruth', message: "a ground-truth file knows nothing of this benchmark's labels: drop it with filter (the filtered truth is computed by brute force)" });
  }
  if (w.queries.groundTruth && w.metric !== 'l2') {
    problems.push({ path: 'workload.metric', message: `ground-truth files (SIFT, GIST) are L2 neighbours; with metric ${w.metric} drop queries.groundTruth and let aifb compute the truth` });
  }
  if (w.streaming && !supported.includes('insert')) problems.push({ path: 'workload.streaming', message: 'streaming inserts vectors, which this backend cannot do' });
  return problems;
}
