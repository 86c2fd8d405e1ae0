import { describe, expect, it } from 'vitest';
import { ObjectPool, partLengths, planS3, prefillSizes } from '../../../../clients/s3/plan.js';
import { S3Workload } from '../../../../clients/s3/schema.js';

const MiB = 1024 ** 2;
const workload = (over: Record<string, unknown> = {}) => S3Workload.parse({ type: 's3', ...over });

describe('s3 workload settings', () => {
  it("defaults to the guide's minio-s3 recipe", () => {
    const w = workload();
    expect(w.operationMix).toEqual({ put: 0.4, get: 0.4, list: 0.1, delete: 0.1 });
    expect(w.objectSizes).toEqual({ '1KB': 0.3, '10KB': 0.3, '100KB': 0.2, '1MB': 0.15, '10MB': 0.05 });
    expect(w.multipart).toEqual({ threshold: 16 * MiB, partSize: 16 * MiB, concurrency: 4 });
    expect(planS3(w).problems).toEqual([]);
  });

  it('refuses bucket names S3 refuses, and unknown fields, at validation', () => {
    for (const bucket of ['ab', 'Bench', 'bench_1', 'bench..x', '192.168.1.1', '-bench']) {
      expect(S3Workload.safeParse({ type: 's3', bucket }).success, bucket).toBe(false);
    }
    expect(S3Workload.safeParse({ type: 's3', bucket: 'aifb.bench-01' }).success).toBe(true);
    const r = S3Workload.safeParse({ type: 's3', bucketName: 'x' });
    expect(r.success || r.error.issues.map((i) => i.message)).toEqual([expect.stringMatching(/bucketName/)]);
  });

  it('returns every problem at once with its path', () => {
    const w = workload({ objectSizes: { '4XB': 1, '200GB': 1 }, multipart: { threshold: '6GiB', partSize: '1MiB' } });
    // The schema refuses an unknown operation first; the client's own check covers a workload built in code.
    const { problems } = planS3({ ...w, operationMix: { put: 1, rename: 1 } });
    expect(problems.map((p) => p.path)).toEqual(['workload.objectSizes["4XB"]', 'workload.operationMix', 'workload.multipart.partSize', 'workload.multipart.threshold']);
    expect(problems[2].message).toMatch(/refuse parts under 5MiB/);
  });

  it('names the size that needs more than 10,000 parts, and the partSize that fits', () => {
    const { problems } = planS3(workload({ objectSizes: { '100GiB': 1 }, multipart: { partSize: '5MiB' } }));
    expect(problems).toEqual([{ path: 'workload.objectSizes["100GiB"]', message: 'needs 20480 parts of workload.multipart.partSize, S3 allows 10000; raise partSize to at least 11MiB' }]);
  });

  it('holds one part in memory, not the object: a 100GiB object with 16MiB parts needs a 16MiB buffer', () => {
    expect(planS3(workload({ objectSizes: { '100GiB': 1, '1KB': 1 }, multipart: { partSize: '16MiB', threshold: '8MiB' } })).plan.bufferBytes).toBe(16 * MiB);
    expect(planS3(workload({ objectSizes: { '4MiB': 1 } })).plan.bufferBytes).toBe(4 * MiB);
    const big = planS3(workload({ objectSizes: { '3GiB': 1 }, multipart: { threshold: '5GiB' } }));
    expect(big.problems).toEqual([{ path: 'workload.multipart.threshold', message: expect.stringMatching(/carry 3072MiB, held in memory/) }]);
  });
});

describe('s3 plan helpers', () => {
  it('splits an object into parts of partSize and a last part of the rest', () => {
    expect(partLengths(12 * MiB, 5 * MiB)).toEqual([5 * MiB, 5 * MiB, 2 * MiB]);
    expect(partLengths(10 * MiB, 5 * MiB)).toEqual([5 * MiB, 5 * MiB]);
  });

  it('prefills in proportion to the weights, at least one object of each size', () => {
    const sizes = [
      { bytes: 1, weight: 6 },
      { bytes: 2, weight: 6 },
      { bytes: 3, weight: 4 },
      { bytes: 4, weight: 3 },
      { bytes: 5, weight: 1 },
      { bytes: 6, weight: 0 },
    ];
    const count = (list: number[]) => Object.fromEntries([1, 2, 3, 4, 5, 6].map((b) => [b, list.filter((x) => x === b).length]));
    expect(count(prefillSizes(sizes, 16))).toEqual({ 1: 5, 2: 5, 3: 3, 4: 2, 5: 1, 6: 0 }); // 4.8, 4.8, 3.2, 2.4, 0.8
    expect(prefillSizes(sizes, 16)).toHaveLength(16);
    expect(count(prefillSizes(sizes, 105))).toEqual({ 1: 32, 2: 31, 3: 21, 4: 16, 5: 5, 6: 0 }); // 31.5, 31.5, 21, 15.75, 5.25
    expect(count(prefillSizes([{ bytes: 1, weight: 99 }, { bytes: 2, weight: 1 }], 10))).toMatchObject({ 1: 9, 2: 1 }); // 9.9 and 0.1: one of each all the same
    expect(prefillSizes(sizes, 2).sort()).toEqual([1, 2]);
    expect(prefillSizes(sizes, 0)).toEqual([]);
  });

  it('keeps a bounded set of keys per size: at the cap a put overwrites a live key', () => {
    const pool = new ObjectPool('p/', [{ bytes: 4 * 1024 ** 3, weight: 1 }], []);
    const keys = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const k = pool.keyFor(4 * 1024 ** 3, i / 5);
      pool.added(4 * 1024 ** 3, k);
      keys.add(k);
    }
    expect(pool.size).toBe(2); // 8GiB of 4GiB objects
    expect(keys).toEqual(new Set(['p/o0', 'p/o1']));
  });
});
