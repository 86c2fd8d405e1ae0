// Faiss in the runner's process (the guide's faiss recipe): Flat, IVF and HNSW
// indexes from a factory string, searched from worker threads, every search's
// recall scored against the exact neighbours. Needs no Service.
import { availableParallelism } from 'node:os';
import { defineWorkload } from '../workload.js';
import { VECTOR_METRICS } from '../vector/metrics.js';
import { vectorFileProblems } from '../vector/dataset.js';
import { FaissWorkload, faissSweepParameters } from './schema.js';

export const faiss = defineWorkload({
  type: 'faiss',
  summary: 'Faiss in the runner (Flat, IVF, HNSW from a factory string): insert, search, filtered search, update and delete (Flat); recall@k beside QPS and latency',
  schema: FaissWorkload,
  services: ['faiss'],
  needsService: false,
  metrics: VECTOR_METRICS,
  example: 'faiss.yaml',
  // Headers and sizes only: a missing or truncated vector file shows before anything starts.
  preflight: (w) => vectorFileProblems(w),
  sweepParameters: faissSweepParameters,
  create: async (workload, ctx) => {
    const { FaissClient } = await import('./client.js');
    // Requests this rank can have in flight at most, over every point of a concurrency sweep.
    const demand = Math.max(ctx.inflight, ...(ctx.load.sweep?.concurrencies ?? []).map((c) => Math.ceil(c / ctx.ranks)));
    const client = new FaissClient(workload, {
      rank: ctx.rank,
      ranks: ctx.ranks,
      seed: ctx.load.seed,
      threads: workload.threads ?? Math.max(1, Math.min(availableParallelism(), demand)),
      outDir: ctx.outDir,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    client.checkIndex();
    return client;
  },
});
