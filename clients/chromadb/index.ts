// ChromaDB (the guide's chromadb recipe): a collection of aifb's vectors (no
// embedding function) with HNSW in the workload's metric; insert, search,
// filtered search, update and delete, recall@k beside QPS and latency.
import { defineWorkload } from '../workload.js';
import { vectorFileProblems } from '../vector/dataset.js';
import { VECTOR_METRICS } from '../vector/metrics.js';
import { ChromadbWorkload, chromadbSweepParameters } from './schema.js';

export const chromadb = defineWorkload({
  type: 'chromadb',
  summary: 'ChromaDB (chromadb 3.x client, vectors supplied by aifb): insert, search, filtered search, update and delete on an HNSW collection; recall@k beside QPS and latency',
  schema: ChromadbWorkload,
  services: ['chromadb'],
  needsService: true,
  metrics: VECTOR_METRICS,
  example: 'chromadb.yaml',
  // Headers and sizes only: a missing or truncated vector file shows before anything starts.
  preflight: (w) => vectorFileProblems(w),
  sweepParameters: () => chromadbSweepParameters(),
  create: async (workload, ctx) =>
    new (await import('./client.js')).ChromadbClient(workload, {
      runId: ctx.runId,
      rank: ctx.rank,
      ranks: ctx.ranks,
      seed: ctx.load.seed,
      service: ctx.service,
      token: ctx.credential('token') ?? ctx.credential('password'),
      inflight: ctx.inflight,
      outDir: ctx.outDir,
      log: (line) => process.stderr.write(`${line}\n`),
    }),
});
