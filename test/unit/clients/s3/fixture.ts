// A fresh s3rver for every test of a file, and the S3 clients the test makes,
// torn down after it: what client.test.ts and errors.test.ts share.
import { afterEach, beforeEach } from 'vitest';
import { S3BenchClient, type S3ClientOptions } from '../../../../clients/s3/client.js';
import { S3Workload } from '../../../../clients/s3/schema.js';
import { S3RVER_KEY, startS3rver, type RunningS3rver } from './s3rver.js';

export function s3rverPerTest(defaults: { bucket: string; prefill: number; connections: number }) {
  let srv: RunningS3rver | undefined;
  let open: S3BenchClient[] = [];
  beforeEach(async () => {
    srv = await startS3rver();
  });
  afterEach(async () => {
    for (const c of open) await c.teardown().catch(() => {});
    open = [];
    await srv!.close();
  });
  /** This test's server. */
  const server = (): RunningS3rver => srv!;
  const workload = (over: Record<string, unknown> = {}) => S3Workload.parse({ type: 's3', bucket: defaults.bucket, prefill: defaults.prefill, objectSizes: { '1KB': 1 }, ...over });
  /** A client of this test's server, torn down after the test. */
  const client = (w: S3Workload, over: Partial<S3ClientOptions> = {}) => {
    const c = new S3BenchClient(w, { runId: 'run-1', rank: 0, service: server().service(), connections: defaults.connections, secret: S3RVER_KEY, ...over });
    open.push(c);
    return c;
  };
  return { server, workload, client };
}
