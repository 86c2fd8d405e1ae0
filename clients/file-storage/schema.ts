// The file-storage workload's settings: the guide's `file_storage` recipe.
import { z } from 'zod';
import { Weights } from '../../api/fields.js';

export const FILE_STORAGE_OPERATIONS = ['write', 'read', 'stat', 'delete'] as const;

export const FileStorageWorkload = z.strictObject({
  type: z.literal('file-storage'),
  basePath: z.string().min(1).default('/tmp/aifb-file-storage'),
  fsync: z.boolean().default(false),
  operationMix: Weights.default({ write: 0.4, read: 0.4, stat: 0.1, delete: 0.1 }).refine(
    (w) => Object.keys(w).every((k) => (FILE_STORAGE_OPERATIONS as readonly string[]).includes(k)),
    `operations are ${FILE_STORAGE_OPERATIONS.join(', ')}`,
  ),
  /** Size (`4KB`, `1MB`) -> weight. */
  fileSizes: z.record(z.string(), z.number().nonnegative()).default({ '4KB': 1 }),
  /** Files written before the run starts, so reads have something to read. */
  prefill: z.number().int().nonnegative().default(16),
});
export type FileStorageWorkload = z.output<typeof FileStorageWorkload>;
