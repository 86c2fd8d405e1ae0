// POSIX file storage (the guide's file_storage recipe): writes, reads, stats and
// deletes files under a folder the runner's host mounts (local disk, Lustre, NFS).
import { defineWorkload } from '../workload.js';
import { FileStorageWorkload } from './schema.js';

export const fileStorage = defineWorkload({
  type: 'file-storage',
  summary: 'POSIX file storage: write, read, stat and delete files of given sizes under basePath',
  schema: FileStorageWorkload,
  services: ['file-storage'],
  needsService: false,
  metrics: [{ name: 'bytes', kind: 'count', unit: 'bytes', help: 'bytes written or read' }],
  example: 'file-storage.yaml',
  create: async (workload, ctx) => new (await import('./client.js')).FileStorageClient(workload, { runId: ctx.runId, rank: ctx.rank }),
});
