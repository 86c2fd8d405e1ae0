// Bad input meets a real s3rver (or a real socket): each failure reads as what
// happened and what to change. Where s3rver cannot refuse (it checks no SigV4
// signature and no permission), the error objects come from the SDK as it
// parses a real answer, or, for SignatureDoesNotMatch alone, from the SDK's
// own exception class, since no server here can send one.
import { createServer, type Server } from 'node:net';
import { DeleteBucketCommand, DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../clients/client.js';
import { s3Reason, type FailureContext } from '../../../../clients/s3/failure.js';
import { s3rverPerTest } from './fixture.js';
import { S3RVER_KEY } from './s3rver.js';

const { server, workload, client } = s3rverPerTest({ bucket: 'bench-errors', prefill: 2, connections: 4 });
/** An SDK client of the test's own, to get real error answers out of s3rver. */
const sdk = (over: Partial<ConstructorParameters<typeof S3Client>[0]> = {}) =>
  new S3Client({ endpoint: `http://127.0.0.1:${server().port}`, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY }, ...over });
const context = (over: Partial<FailureContext> = {}): FailureContext => ({
  action: 'GET',
  bucket: 'bench-errors',
  origin: 'http://127.0.0.1:9000',
  host: '127.0.0.1',
  region: 'us-east-1',
  accessKey: 'bench',
  secretFrom: 'file /home/me/.s3-secret (credentials.password)',
  timeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  ...over,
});
const caught = async (p: Promise<unknown>): Promise<unknown> => p.then(() => expect.unreachable('it should have failed'), (e: unknown) => e);

describe('s3 setup fails with a reason a user can act on', () => {
  it('an access key the server does not know', async () => {
    const c = client(workload(), { service: server().service({ credentials: { user: 'nobody', password: { env: 'X' } } }), secret: 'whatever' });
    await expect(c.setup()).rejects.toThrow('the server does not know access key "nobody" (InvalidAccessKeyId, HTTP 403); set credentials.user on the Service to an access key it has');
  });

  it('a port nobody listens on', async () => {
    const port = await closedPort();
    const c = client(workload(), { service: server().service({ port }) });
    await expect(c.setup()).rejects.toThrow(`connection refused by http://127.0.0.1:${port} (ECONNREFUSED); check that the Service is running and its host and port are right`);
  });

  it('a server that takes the connection and never answers', async () => {
    const silent = await listenSilently();
    try {
      const c = client(workload({ timeout: '300ms' }), { service: server().service({ port: (silent.address() as { port: number }).port }) });
      const t0 = performance.now();
      await expect(c.setup()).rejects.toThrow('no answer within 300 ms (workload.timeout) to LIST; raise workload.timeout if the server is this slow');
      expect(performance.now() - t0).toBeLessThan(3_000);
    } finally {
      silent.close();
    }
  });

  it('a missing bucket it may not create', async () => {
    const c = client(workload({ bucket: 'bench-none', createBucket: false }));
    await expect(c.setup()).rejects.toThrow('bucket "bench-none" does not exist (NoSuchBucket); create it, or set workload.createBucket: true');
  });

  it('credentials that come without their other half, before anything is opened', () => {
    const err = (() => {
      try {
        client(workload(), { secret: undefined });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toEqual([{ path: 'service.credentials.password', message: 'access key "S3RVER" needs its secret key: set credentials.password to {file: /path} or {env: NAME} on the Service' }]);
    expect(() => client(workload(), { service: server().service({ credentials: undefined }), secret: 's' })).toThrow('service.credentials.user: a secret key needs its access key id');
    expect(() => client(workload(), { service: undefined })).toThrow(/serviceRef: an s3 workload needs a service/);
  });
});

describe('s3 requests fail with a stable reason', () => {
  it('the bucket removed while the run goes on', async () => {
    const c = client(workload({ prefill: 0 }));
    await c.setup();
    await removeBucket('bench-errors');
    const e = (await caught(c.execute({ name: 'put', size: 1024, seq: 0 }))) as Error;
    expect(e.message).toBe('bucket "bench-errors" does not exist (NoSuchBucket, HTTP 404) at PUT; was it removed while the benchmark ran?');
  });

  it('objects removed behind its back: the same reason for every key, no silent fallback', async () => {
    const c = client(workload({ prefill: 4 }));
    await c.setup();
    const admin = sdk();
    for (const o of (await admin.send(new ListObjectsV2Command({ Bucket: 'bench-errors', Prefix: c.rankPrefix }))).Contents ?? []) {
      await admin.send(new DeleteObjectCommand({ Bucket: 'bench-errors', Key: o.Key! }));
    }
    const reasons = new Set<string>();
    for (let i = 0; i < 6; i++) reasons.add(((await caught(c.execute({ name: 'get', size: 1024, seq: i }))) as Error).message);
    expect([...reasons]).toEqual(['the object was not there at GET (NoSuchKey, HTTP 404); something else removed objects under workload.keyPrefix while the benchmark ran']);
    const head = (await caught(c.execute({ name: 'head', size: 1024, seq: 9 }))) as Error;
    expect(head.message).toBe('the object was not there at HEAD (HTTP 404); something else removed objects under workload.keyPrefix while the benchmark ran');
  });
});

describe('s3Reason on the error objects the SDK makes of real answers', () => {
  it('access denied, as s3rver answers a request with a bad date: names the key and where to look', async () => {
    const bad = sdk();
    // After signing: s3rver refuses an unreadable x-amz-date with AccessDenied, the one way to get that code from it.
    bad.middlewareStack.add((next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-amz-date'] = 'not a date';
      return next(args);
    }, { step: 'finalizeRequest', priority: 'low' });
    const e = await caught(bad.send(new ListObjectsV2Command({ Bucket: 'bench-errors' })));
    const reason = s3Reason(e, context({ action: 'LIST' }));
    expect(reason).toBe(
      'access denied to LIST in bucket "bench-errors" (AccessDenied: AWS authentication requires a valid Date or x-amz-date header); check access key "bench", its secret and its rights',
    );
    expect(s3Reason(e, context({ action: 'LIST', accessKey: undefined }))).toMatch(/; requests go unsigned: set credentials \(user, password\) on the Service$/);
  });

  it('a refused HEAD, which has no body to say why', async () => {
    const e = await caught(sdk({ credentials: { accessKeyId: 'nobody', secretAccessKey: 'x' } }).send(new HeadObjectCommand({ Bucket: 'bench-errors', Key: 'k' })));
    expect(s3Reason(e, context({ action: 'HEAD' }))).toBe('access denied to HEAD in bucket "bench-errors" (HTTP 403); check access key "bench", its secret and its rights');
  });

  it("a clock far off the server's", async () => {
    const e = await caught(sdk({ systemClockOffset: 3_600_000 }).send(new ListObjectsV2Command({ Bucket: 'bench-errors' })));
    expect(s3Reason(e, context())).toBe("this host's clock is more than 15 minutes off the server's (RequestTimeTooSkewed, HTTP 403); synchronise it (NTP)");
  });

  it('a wrong secret key: s3rver checks no SigV4 signature, so this one is built with the SDK exception class', async () => {
    // What s3rver does with a wrong secret: takes it (it looks up the access key id only).
    await expect(sdk({ credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: 'wrong' } }).send(new ListObjectsV2Command({ Bucket: 'bench-errors' }))).rejects.toThrow(/NoSuchBucket|bucket does not exist/);
    const e = new S3ServiceException({ name: 'SignatureDoesNotMatch', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'The request signature we calculated does not match the signature you provided.' });
    const reason = s3Reason(e, context());
    expect(reason).toBe('the secret key does not match access key "bench" (SignatureDoesNotMatch, HTTP 403); check the secret key in file /home/me/.s3-secret (credentials.password)');
  });

  it('keeps every reason within the 200 characters the reports keep, for a bucket name of 32', () => {
    const ctx = context({ bucket: 'a'.repeat(32), accessKey: 'AKIA0123456789ABCDEF', action: 'CompleteMultipartUpload' });
    for (const name of ['AccessDenied', 'NoSuchBucket', 'NoSuchKey', 'SlowDown', 'InvalidAccessKeyId', 'EntityTooSmall', 'NotImplemented', 'InternalError']) {
      const e = new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: name === 'SlowDown' ? 503 : 403 }, message: 'Access Denied.' });
      expect(s3Reason(e, ctx).length, name).toBeLessThanOrEqual(200);
    }
  });
});

/** Empties and removes a bucket from outside the workload, one object at a time (s3rver's DeleteObjects races with itself). */
async function removeBucket(bucket: string): Promise<void> {
  const admin = sdk();
  for (const o of (await admin.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []) {
    await admin.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }));
  }
  await admin.send(new DeleteBucketCommand({ Bucket: bucket }));
}

async function closedPort(): Promise<number> {
  const s = await listenSilently();
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function listenSilently(): Promise<Server> {
  return new Promise((resolve) => {
    const s = createServer(() => {}).listen(0, '127.0.0.1', () => resolve(s));
  });
}
