// Weaviate (the guide's weaviate recipe): vectors supplied by aifb in a class of
// their own, batch import, GraphQL nearVector search (filtered by a label),
// update and delete; recall@k beside QPS and latency, HNSW ef swept per point.
import { defineWorkload } from '../workload.js';
import { VECTOR_METRICS } from '../vector/metrics.js';
import { vectorFileProblems } from '../vector/dataset.js';
import { WEAVIATE_SWEEP_PARAMETERS, WeaviateWorkload } from './schema.js';

export const weaviate = defineWorkload({
  type: 'weaviate',
  summary: 'Weaviate: batch import, nearVector search (plain and filtered), update and delete in a class of its own; recall@k beside QPS and latency',
  schema: WeaviateWorkload,
  services: ['weaviate'],
  needsService: true,
  metrics: VECTOR_METRICS,
  example: 'weaviate.yaml',
  // Headers and sizes only: a missing or truncated vector file shows before anything starts.
  preflight: (w) => vectorFileProblems(w),
  sweepParameters: () => WEAVIATE_SWEEP_PARAMETERS,
  create: async (workload, ctx) =>
    new (await import('./client.js')).WeaviateBenchClient(workload, {
      rank: ctx.rank,
      ranks: ctx.ranks,
      seed: ctx.load.seed,
      service: ctx.service,
      token: ctx.credential('token'),
      outDir: ctx.outDir,
      log: (line) => process.stderr.write(`${line}\n`),
    }),
});
