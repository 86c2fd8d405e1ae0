// The s3 workload's settings: the guide's `minio-s3` recipe (bucket, operation
// mix, object sizes) plus multipart uploads, a prefill for reads and cleanup.
import { z } from 'zod';
import { Duration, Size, Weights } from '../../api/fields.js';

export const S3_OPERATIONS = ['put', 'get', 'list', 'head', 'delete'] as const;
export type S3Operation = (typeof S3_OPERATIONS)[number];

const MiB = 1024 ** 2;

/** S3's rules for new buckets: 3-63 lowercase letters, digits, "." and "-", no "..", not an IP address. */
export const BucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be 3-63 lowercase letters, digits, "." or "-", starting and ending with a letter or digit, e.g. aifb-bench')
  .refine((b) => !b.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(b), 'must not contain ".." or look like an IP address');

export const Multipart = z.strictObject({
  /** Objects larger than this go up as a multipart upload; up to it, as one PUT. */
  threshold: Size.default(16 * MiB),
  /** Every part but the last; S3 wants at least 5MiB. */
  partSize: Size.default(16 * MiB),
  /** Parts of one object in flight at once. */
  concurrency: z.number().int().min(1).max(64).default(4),
});

export const S3Workload = z.strictObject({
  type: z.literal('s3'),
  bucket: BucketName.default('aifb-bench'),
  /** Create the bucket when it is missing; a bucket created so is removed at the end (unless `keep`). */
  createBucket: z.boolean().default(true),
  /** Leave the objects (and a bucket the run created) in place at the end, e.g. to inspect them. */
  keep: z.boolean().default(false),
  /** Keys are `<keyPrefix><runId>/r<rank>/...`: each rank writes, lists and removes only its own. */
  keyPrefix: z
    .string()
    .max(512)
    .refine((p) => !p.startsWith('/'), 'must not start with "/": S3 keys have no leading slash, e.g. aifb/')
    .default('aifb/'),
  operationMix: Weights.default({ put: 0.4, get: 0.4, list: 0.1, delete: 0.1 }).refine(
    (w) => Object.keys(w).every((k) => (S3_OPERATIONS as readonly string[]).includes(k)),
    `operations are ${S3_OPERATIONS.join(', ')}`,
  ),
  /** Size (`1KB`, `10MB`) -> weight, drawn for every operation: a get reads an object of the drawn size. */
  objectSizes: z.record(z.string(), z.number().nonnegative()).default({ '1KB': 0.3, '10KB': 0.3, '100KB': 0.2, '1MB': 0.15, '10MB': 0.05 }),
  /** Objects each rank writes before the run, spread over the sizes by weight, so reads have something to read. */
  prefill: z.number().int().nonnegative().default(16),
  multipart: Multipart.default({ threshold: 16 * MiB, partSize: 16 * MiB, concurrency: 4 }),
  /** Keys a list asks for (one ListObjectsV2 page of the rank's prefix); S3 returns at most 1000. */
  listMaxKeys: z.number().int().min(1).max(1000).default(1000),
  /** Longest wait for an answer, and longest silence while a body streams; slower is a failed request. */
  timeout: Duration.default(60_000),
});
export type S3Workload = z.output<typeof S3Workload>;
