// The weaviate workload's settings: the shared vector fields (clients/vector/schema.ts)
// and Weaviate's own: the class the vectors go in and its HNSW index.
import { z } from 'zod';
import { vectorFields, type VectorMetric } from '../vector/schema.js';

export const WeaviateWorkload = z.strictObject({
  type: z.literal('weaviate'),
  ...vectorFields,
  /**
   * The class (collection) the vectors go in, created at setup and deleted at
   * teardown unless `keep`. With several ranks each has its own: <className>_r<rank>.
   * A class already there is used and left as found (its distance must match
   * `metric`; objects besides the base count as misses in recall).
   */
  className: z
    .string()
    .regex(/^[A-Z][_0-9A-Za-z]*$/, 'must be a Weaviate class name: a capital letter, then letters, digits or "_" (e.g. AifbBench)')
    .max(200)
    .default('AifbBench'),
  /** HNSW: candidates kept while searching (vectorIndexConfig.ef; Weaviate's default -1 picks it per query); the recall/speed knob. */
  ef: z.number().int().positive().max(1_000_000).optional(),
  /** HNSW: candidates kept while building (vectorIndexConfig.efConstruction; Weaviate's default 128). */
  efConstruction: z.number().int().positive().max(1_000_000).optional(),
  /** HNSW: neighbours per node (vectorIndexConfig.maxConnections; Weaviate's default 32). */
  maxConnections: z.number().int().positive().max(2048).optional(),
  /** Leave the class and its objects on the server after the run. */
  keep: z.boolean().default(false),
});
export type WeaviateWorkload = z.output<typeof WeaviateWorkload>;

/** Weaviate's name for each metric (vectorIndexConfig.distance). */
export const WEAVIATE_DISTANCE: Record<VectorMetric, 'l2-squared' | 'dot' | 'cosine'> = { l2: 'l2-squared', ip: 'dot', cosine: 'cosine' };

/** What load.sweep.parameter may set per point. */
export const WEAVIATE_SWEEP_PARAMETERS = ['ef', 'batchSize', 'queryBatch'] as const;
