// The faiss workload's settings: the shared vector fields (clients/vector/schema.ts)
// and how the in-process index is made (a Faiss index factory string) and searched.
import { z } from 'zod';
import { vectorFields } from '../vector/schema.js';
import { familyOfDescriptor } from './native.js';

export const FaissWorkload = z.strictObject({
  type: z.literal('faiss'),
  ...vectorFields,
  /** A Faiss index factory string: "Flat" (exact), "IVF256,Flat", "IVF256,PQ16", "HNSW32", "HNSW32,SQ8"... trained when it needs it. */
  index: z.string().trim().min(1).default('HNSW32'),
  /** HNSW: candidates kept while searching (Faiss's default 16); the recall/speed knob. */
  efSearch: z.number().int().positive().max(1_000_000).optional(),
  /** HNSW: candidates kept while building (Faiss's default 40). */
  efConstruction: z.number().int().positive().max(1_000_000).optional(),
  /** IVF: lists visited per search (Faiss's default 1), at most the index's nlist. */
  nprobe: z.number().int().positive().optional(),
  /** Search threads, each with its own replica of the index (memory x threads). Default: as many as requests can be in flight, at most the cores. */
  threads: z.number().int().positive().max(256).optional(),
  /** Vectors the index is trained on (IVF, PQ, SQ): the first ones of the base. Default: all of the base, at most 100000. */
  trainSize: z.number().int().positive().optional(),
});
export type FaissWorkload = z.output<typeof FaissWorkload>;

export const DEFAULT_TRAIN_SIZE = 100_000;

/** What load.sweep.parameter may set per point, for this index: efSearch for HNSW, nprobe for IVF, and the batch sizes. */
export function faissSweepParameters(w: { index: string }): string[] {
  const family = familyOfDescriptor(w.index);
  return ['queryBatch', 'batchSize', ...(family === 'hnsw' ? ['efSearch'] : []), ...(family === 'ivf' ? ['nprobe'] : [])];
}
