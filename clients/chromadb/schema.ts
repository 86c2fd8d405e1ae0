// The chromadb workload's settings: the shared vector fields (clients/vector/schema.ts)
// and ChromaDB's own: which collection, and its HNSW index's parameters.
import { z } from 'zod';
import { vectorFields } from '../vector/schema.js';

/** ChromaDB's rule for collection names (its server checks the same): 3-512 of [a-zA-Z0-9._-], alphanumeric at both ends, no "..", not an IPv4 address. */
export const CollectionName = z
  .string()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$/, 'must be 3-512 letters, digits, ".", "_" or "-", starting and ending with a letter or digit')
  .refine((n) => !n.includes('..'), { message: 'must not contain ".."' })
  .refine((n) => !/^\d{1,3}(\.\d{1,3}){3}$/.test(n), { message: 'must not be an IPv4 address' });

export const ChromadbWorkload = z.strictObject({
  type: z.literal('chromadb'),
  ...vectorFields,
  /**
   * The collection each rank creates and fills (a rank's own: `<name>-r<rank>`
   * when there are several). Default: `aifb-<run id>`, the benchmark's name,
   * generation and attempt. An existing collection is used only if it is empty
   * and of `dimension`; one the run created is deleted at the end unless `keep`.
   */
  collection: CollectionName.optional(),
  /** HNSW: candidates kept while searching (ChromaDB's default 100); the recall/speed knob, and a sweep parameter. */
  efSearch: z.number().int().positive().max(1_000_000).optional(),
  /** HNSW: candidates kept while building (ChromaDB's default 100). */
  efConstruction: z.number().int().positive().max(1_000_000).optional(),
  /** HNSW: links per node, M (ChromaDB's max_neighbors, default 16). */
  M: z.number().int().min(2).max(2048).optional(),
  /** Vectors per request when preloading the base (capped at the server's max batch size). */
  loadBatch: z.number().int().positive().max(100_000).default(1000),
  /** Leave the collection (and its vectors) in place at the end, e.g. to inspect it. */
  keep: z.boolean().default(false),
});
export type ChromadbWorkload = z.output<typeof ChromadbWorkload>;

/** What load.sweep.parameter may set per point. */
export function chromadbSweepParameters(): string[] {
  return ['queryBatch', 'batchSize', 'efSearch'];
}

/** ChromaDB's HNSW space for the workload's metric: l2 is squared Euclidean, ip is 1 - dot, cosine 1 - cosine similarity; each ranks as aifb's metric does. */
export const SPACE = { l2: 'l2', ip: 'ip', cosine: 'cosine' } as const;
