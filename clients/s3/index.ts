// S3 object storage (the guide's minio-s3 recipe): put, get, list, head and
// delete objects of weighted sizes in a bucket, multipart above a threshold;
// objects/s and bytes/s per operation, and time to first byte as warp has it.
import type { MetricDecl } from '../../api/metrics.js';
import { defineWorkload } from '../workload.js';
import { S3Workload } from './schema.js';

export const S3_METRICS: readonly MetricDecl[] = [
  { name: 'bytes', kind: 'count', unit: 'bytes', help: 'object bytes written (put) or read (get)' },
  { name: 'ttfb', kind: 'timing', unit: 'ms', help: "get: time to the first byte of the object's body, from the intended send time", sinceSend: true },
  { name: 'putTtfb', kind: 'timing', unit: 'ms', help: 'put: time from the last byte of the body sent to the first byte of the answer (for a multipart upload, of the part sent last)' },
  { name: 'parts', kind: 'count', unit: 'parts', help: 'put: requests that carried the object: 1, or the parts of a multipart upload' },
  { name: 'keys', kind: 'count', unit: 'objects', help: "list: keys returned from the rank's prefix" },
];

export const s3 = defineWorkload({
  type: 's3',
  summary: 'S3 object storage (MinIO, AWS S3, Ceph): put, get, list, head and delete objects of given sizes in a bucket, multipart above a threshold',
  schema: S3Workload,
  services: ['s3', 'minio'],
  needsService: true,
  metrics: S3_METRICS,
  example: 'minio.yaml',
  create: async (workload, ctx) =>
    new (await import('./client.js')).S3BenchClient(workload, {
      runId: ctx.runId,
      rank: ctx.rank,
      service: ctx.service,
      connections: ctx.connections,
      secret: ctx.credential('password'),
    }),
});
