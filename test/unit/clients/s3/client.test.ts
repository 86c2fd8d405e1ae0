import { CreateBucketCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { Load } from '../../../../api/schemas.js';
import { systemClock } from '../../../../clients/engine/clock.js';
import { runLoad } from '../../../../clients/engine/engine.js';
import { meanMs } from '../../../../clients/engine/histogram.js';
import { S3BenchClient } from '../../../../clients/s3/client.js';
import { S3_METRICS } from '../../../../clients/s3/index.js';
import { s3rverPerTest } from './fixture.js';

const KiB = 1024;
const MiB = 1024 ** 2;

const { server, workload, client } = s3rverPerTest({ bucket: 'bench-unit', prefill: 0, connections: 8 });
const run = (c: S3BenchClient, load: Record<string, unknown>) => runLoad({ client: c, metrics: S3_METRICS, load: Load.parse(load), ranks: 1, rank: 0, clock: systemClock });

/** Keys and sizes in a bucket under a prefix, as the server lists them. */
async function listed(bucket: string, prefix = ''): Promise<Array<{ key: string; size: number }>> {
  const out = await server().admin().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size! }));
}
const buckets = async () => ((await server().admin().send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name);
/** What the server was asked, by kind of S3 request, from its own log. */
function asked(log: string[]) {
  const n = (re: RegExp) => log.filter((l) => re.test(l)).length;
  return {
    put: n(/^PUT \/bench-unit\/[^?]+\?x-id=PutObject$/),
    part: n(/^PUT \/bench-unit\/[^?]+\?.*partNumber=\d+/),
    createUpload: n(/^POST \/bench-unit\/[^?]+\?uploads/),
    complete: n(/^POST \/bench-unit\/[^?]+\?uploadId=/),
    get: n(/^GET \/bench-unit\/[^?]+\?x-id=GetObject$/),
    head: n(/^HEAD \/bench-unit\/[^?]+$/),
    list: n(/^GET \/bench-unit\/\?list-type=2/),
    delete: n(/^DELETE \/bench-unit\/[^?]+\?x-id=DeleteObject$/),
  };
}

describe('S3BenchClient against s3rver', () => {
  it('runs the mix: each operation counted once as the server saw it, objects/s and bytes per operation', async () => {
    const c = client(workload({ prefill: 10, operationMix: { put: 3, get: 3, list: 1, head: 1, delete: 1 } }));
    await c.setup();
    await server().requests(); // what setup asked
    const r = await run(c, { mode: 'closed', workers: 4, maxRequests: 300, seed: 3 });
    expect(r.totals).toMatchObject({ requests: 300, errors: 0 });
    const ops = r.operations;
    for (const op of ['put', 'get', 'list', 'head', 'delete']) expect(ops[op].requests, op).toBeGreaterThan(10);
    // Reads and deletes with nothing to read fall back to puts and are reported as puts: every report matches a server request.
    const seen = asked(await server().requests());
    expect(seen).toMatchObject({ put: ops.put.requests, get: ops.get.requests, list: ops.list.requests, head: ops.head.requests, delete: ops.delete.requests });
    expect(ops.put.metrics.bytes).toEqual({ count: ops.put.requests, sum: ops.put.requests * KiB });
    expect(ops.get.metrics.bytes).toEqual({ count: ops.get.requests, sum: ops.get.requests * KiB });
    expect(ops.list.metrics.keys.count).toBe(ops.list.requests);
    expect(ops.head.metrics.bytes).toBeUndefined();
    // The rank's objects are what it put, less what it deleted.
    expect((await listed('bench-unit', c.rankPrefix)).length).toBe(c.liveObjects);
  });

  it('draws object sizes by weight for puts, and gets read objects of the drawn size', async () => {
    const c = client(workload({ prefill: 8, objectSizes: { '1KB': 3, '4KB': 1 }, operationMix: { put: 1, get: 1 } }));
    await c.setup();
    const before = await listed('bench-unit', c.rankPrefix);
    expect(before.filter((o) => o.size === KiB)).toHaveLength(6); // prefill: 8 split 3:1
    expect(before.filter((o) => o.size === 4 * KiB)).toHaveLength(2);
    const r = await run(c, { mode: 'closed', workers: 4, maxRequests: 800, seed: 11 });
    const objects = await listed('bench-unit', c.rankPrefix);
    const puts = r.operations.put.requests;
    const big = objects.filter((o) => o.size === 4 * KiB).length - 2;
    expect(objects.filter((o) => o.size !== KiB && o.size !== 4 * KiB)).toEqual([]);
    expect(objects.length - 8).toBe(puts);
    // 1 in 4 puts is 4KB: ~100 of ~400, binomial sd ~9.
    expect(big / puts).toBeGreaterThan(0.17);
    expect(big / puts).toBeLessThan(0.33);
    expect(r.operations.put.metrics.bytes.sum).toBe(objects.reduce((s, o) => s + o.size, 0) - (6 * KiB + 2 * 4 * KiB));
    const gets = r.operations.get.metrics.bytes;
    const meanGet = gets.sum / gets.count;
    expect(meanGet).toBeGreaterThan(0.75 * KiB + 0.25 * 4 * KiB - 300);
    expect(meanGet).toBeLessThan(0.75 * KiB + 0.25 * 4 * KiB + 300);
  });

  it('uploads objects above the threshold in parts, and objects up to it in one PUT', async () => {
    const c = client(workload({ objectSizes: { '5MiB': 1, '12MiB': 1 }, operationMix: { put: 1 }, multipart: { threshold: '5MiB', partSize: '5MiB', concurrency: 2 } }));
    await c.setup();
    await server().requests(); // what setup asked
    const whole = await c.execute({ name: 'put', size: 5 * MiB, seq: 0 });
    const parted = await c.execute({ name: 'put', size: 12 * MiB, seq: 1 });
    expect(whole.metrics).toMatchObject({ bytes: 5 * MiB, parts: 1 });
    expect(parted.metrics).toMatchObject({ bytes: 12 * MiB, parts: 3 });
    // s3rver gives a completed upload the MD5 of the whole object as its ETag, not MinIO's and S3's
    // "<md5 of the part MD5s>-3", and has no ListParts: the server's request log shows the parts instead.
    const log = await server().requests();
    expect(asked(log)).toMatchObject({ put: 1, createUpload: 1, part: 3, complete: 1 });
    const partLines = log.filter((l) => /partNumber=/.test(l));
    expect(partLines.map((l) => /partNumber=(\d+)/.exec(l)![1]).sort()).toEqual(['1', '2', '3']);
    const sizes = (await listed('bench-unit', c.rankPrefix)).map((o) => o.size).sort((a, b) => a - b);
    expect(sizes).toEqual([5 * MiB, 12 * MiB]);
    const key = (await listed('bench-unit', c.rankPrefix)).find((o) => o.size === 12 * MiB)!.key;
    expect((await server().admin().send(new HeadObjectCommand({ Bucket: 'bench-unit', Key: key }))).ContentLength).toBe(12 * MiB);
  });

  it('GET ttfb: from the send to the first body byte, not to the headers before it nor the end after it', async () => {
    const c = client(workload({ prefill: 1, objectSizes: { '1MB': 1 }, operationMix: { get: 1 } }));
    await c.setup();
    server().delay(/^GET \/bench-unit\/.+/, { beforeBody: 60, afterFirstChunk: 120 });
    const t0 = performance.now();
    const r = await c.execute({ name: 'get', size: MiB, seq: 0 });
    const latency = performance.now() - t0;
    const ttfb = r.metrics!.ttfb as number;
    expect(r.metrics!.bytes).toBe(MiB);
    expect(ttfb).toBeGreaterThanOrEqual(59);
    expect(ttfb).toBeLessThan(latency - 100); // the rest of the body came 120 ms after its first chunk
  });

  it('PUT ttfb: from the last body byte sent to the answer, not from the start of a slow upload', async () => {
    // 32MiB outgrows loopback's socket buffers, so the body can only finish leaving once the
    // server reads, 200 ms late; the answer then waits 50 ms more.
    const c = client(workload({ objectSizes: { '32MiB': 1 }, operationMix: { put: 1 }, multipart: { threshold: '64MiB' } }));
    await c.setup();
    server().delay(/^PUT \/bench-unit\/.+/, { beforeHandling: 200, beforeHeaders: 50 });
    const t0 = performance.now();
    const r = await c.execute({ name: 'put', size: 32 * MiB, seq: 0 });
    const latency = performance.now() - t0;
    const putTtfb = r.metrics!.putTtfb as number;
    expect(putTtfb).toBeGreaterThanOrEqual(49);
    expect(putTtfb).toBeLessThan(latency - 150);
  });

  it('records ttfb for every get and putTtfb for every put, each below its latency', async () => {
    const c = client(workload({ prefill: 4, objectSizes: { '64KB': 1, '6MiB': 1 }, operationMix: { put: 1, get: 1 }, multipart: { threshold: '5MiB', partSize: '5MiB' } }));
    await c.setup();
    const r = await run(c, { mode: 'closed', workers: 2, maxRequests: 40, seed: 5 });
    const { put, get } = r.operations;
    expect(r.totals.errors).toBe(0);
    expect(get.metrics.ttfb.count).toBe(get.requests);
    expect(put.metrics.putTtfb.count).toBe(put.requests);
    for (const [op, metric] of [['get', 'ttfb'], ['put', 'putTtfb']] as const) {
      const m = r.operations[op].metrics[metric];
      expect(m.sum / m.count, op).toBeGreaterThan(0);
      expect(m.sum / m.count, op).toBeLessThan(meanMs(r.histograms.forOp(op)));
    }
  });

  it('empties its prefix and removes a bucket it created; keeps a bucket it found, and what others put there', async () => {
    const created = client(workload({ bucket: 'bench-made', prefill: 5 }));
    await created.setup();
    await created.execute({ name: 'put', size: KiB, seq: 0 });
    expect(await buckets()).toContain('bench-made');
    await created.teardown();
    expect(await buckets()).not.toContain('bench-made');

    await server().admin().send(new CreateBucketCommand({ Bucket: 'bench-found' }));
    await server().admin().send(new PutObjectCommand({ Bucket: 'bench-found', Key: 'theirs/data.bin', Body: 'keep me' }));
    const found = client(workload({ bucket: 'bench-found', prefill: 5 }));
    await found.setup();
    expect(await listed('bench-found', found.rankPrefix)).toHaveLength(5);
    await found.teardown();
    expect(await listed('bench-found')).toEqual([{ key: 'theirs/data.bin', size: 7 }]);
  });

  it('keeps the objects and the bucket when asked', async () => {
    const c = client(workload({ bucket: 'bench-kept', prefill: 3, keep: true }));
    await c.setup();
    await c.teardown();
    expect(await buckets()).toContain('bench-kept');
    expect((await listed('bench-kept')).map((o) => o.key).sort()).toEqual(['aifb/run-1/r0/o0', 'aifb/run-1/r0/o1', 'aifb/run-1/r0/o2']);
  });

  it('ranks keep to their own prefixes, and the last one out removes the bucket the run created', async () => {
    const w = workload({ bucket: 'bench-ranks', prefill: 4, operationMix: { put: 1, list: 1 } });
    const [r0, r1] = [client(w, { rank: 0 }), client(w, { rank: 1 })];
    await Promise.all([r0.setup(), r1.setup()]); // both find no bucket and race to create it
    expect([r0.rankPrefix, r1.rankPrefix]).toEqual(['aifb/run-1/r0/', 'aifb/run-1/r1/']);
    await r1.execute({ name: 'put', size: KiB, seq: 0 });
    expect((await r0.execute({ name: 'list', seq: 1 })).metrics).toEqual({ keys: 4 });
    expect((await r1.execute({ name: 'list', seq: 1 })).metrics).toEqual({ keys: 5 });
    await r0.teardown();
    expect((await listed('bench-ranks')).filter((o) => o.key.includes('/r1/'))).toHaveLength(5);
    expect(await buckets()).toContain('bench-ranks');
    await r1.teardown();
    expect(await buckets()).not.toContain('bench-ranks');
  });

  it('clears what an earlier try of the same run left under its prefix', async () => {
    const first = client(workload({ prefill: 3, keep: true }));
    await first.setup();
    await first.teardown();
    const again = client(workload({ prefill: 2 }));
    await again.setup();
    expect(await listed('bench-unit', again.rankPrefix)).toHaveLength(2);
  });

  it('works unsigned against a service with no credentials', async () => {
    const c = client(workload({ prefill: 2 }), { service: server().service({ credentials: undefined }), secret: undefined });
    await c.setup();
    expect((await c.execute({ name: 'get', size: KiB, seq: 0 })).metrics).toMatchObject({ bytes: KiB });
  });
});
