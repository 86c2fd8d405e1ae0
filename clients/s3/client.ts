// S3 object storage client (MinIO, AWS S3, Ceph RGW, s3rver): put, get, list,
// head and delete of objects of drawn sizes under this rank's own prefix,
// multipart above a threshold, over one keep-alive agent, with one payload.
import { randomFillSync } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describeSecretRef, type Connection } from '../../api/connection.js';
import { ConfigError, type BenchmarkClient, type ConfigProblem, type Operation, type OperationMix, type OperationResult } from '../client.js';
import { originOf } from '../http-common.js';
import { emptyPrefix, openBucket, removeIfCreated, type BucketSite } from './bucket.js';
import { s3Reason, type FailureContext } from './failure.js';
import { keyLayout, ObjectPool, partLengths, planS3, prefillSizes } from './plan.js';
import { S3_OPERATIONS, type S3Workload } from './schema.js';
import { afterUpload, observe, type RequestTimes } from './timing.js';

// The SDK warns once per process that its 2027 releases want Node 22; the
// runner's output is for the benchmark. A user's own setting wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const DEFAULT_REGION = 'us-east-1';
/** A host that never answers a connect (a firewall drops it) fails after this, or workload.timeout if shorter. */
const CONNECT_TIMEOUT_MS = 10_000;
const PREFILL_CONCURRENCY = 8;

export interface S3ClientOptions {
  runId: string;
  rank: number;
  service?: Connection;
  /** Connections in the pool: one per request this rank can have in flight (times the parts of a multipart upload). */
  connections: number;
  /** The secret key (the service's credentials.password, read where the runner runs). */
  secret?: string;
}

/**
 * One op = one S3 request of the mix (a multipart put: all of its requests).
 * Reports `bytes` (object bytes written or read), `ttfb` (get: first body
 * byte, from the send), `putTtfb` (put: from the last body byte sent to the
 * answer, see timing.ts), `parts` (put) and `keys` (list).
 */
export class S3BenchClient implements BenchmarkClient {
  readonly operations = S3_OPERATIONS;
  readonly mix: OperationMix;
  readonly bucket: string;
  readonly origin: string;
  readonly rankPrefix: string;
  private readonly createdMarker: string;
  private readonly region: string;
  private readonly pool: ObjectPool;
  /** Keys a get or head is reading now, and how many: deletes leave them alone. */
  private readonly reading = new Map<string, number>();
  private readonly prefill: number[];
  private readonly bufferBytes: number;
  private readonly defaultSize: number;
  private readonly failure: Omit<FailureContext, 'action'>;
  private readonly maxSockets: number;
  private s3: S3Client | undefined;
  private agents: { http: HttpAgent; https: HttpsAgent } | undefined;
  private payload = Buffer.alloc(0);
  /** Multipart uploads begun and not finished: aborted at teardown so no parts linger. */
  private readonly openUploads = new Map<string, string>();
  private opened = false;
  // Object picks need not be reproducible: which object is read does not
  // change the load, and this keeps the engine's seeded stream untouched.
  private readonly pickRandom = Math.random;

  constructor(
    private readonly config: S3Workload,
    private readonly options: S3ClientOptions,
  ) {
    const service = options.service;
    const { plan, problems } = planS3(config);
    if (!service) problems.push({ path: 'serviceRef', message: 'an s3 workload needs a service: set spec.serviceRef (or an inline spec.service) to a Service of type s3 or minio' });
    problems.push(...credentialProblems(service, options.secret));
    if (problems.length > 0) throw new ConfigError(problems);
    this.mix = { operations: { ...config.operationMix }, sizes: plan.sizes };
    this.bufferBytes = plan.bufferBytes;
    this.defaultSize = plan.sizes.find((s) => s.weight > 0)?.bytes ?? 0;
    this.bucket = config.bucket;
    this.origin = originOf(service!);
    this.region = service!.region ?? DEFAULT_REGION;
    ({ rankPrefix: this.rankPrefix, createdMarker: this.createdMarker } = keyLayout(config.keyPrefix, options.runId, options.rank));
    this.prefill = prefillSizes(plan.sizes, config.prefill);
    this.pool = new ObjectPool(this.rankPrefix, plan.sizes, this.prefill);
    const multipart = plan.sizes.some((s) => s.weight > 0 && s.bytes > config.multipart.threshold);
    this.maxSockets = Math.max(1, options.connections) * (multipart ? config.multipart.concurrency : 1);
    const password = service!.credentials?.password;
    this.failure = {
      bucket: config.bucket,
      origin: this.origin,
      host: service!.host,
      region: this.region,
      accessKey: service!.credentials?.user,
      secretFrom: password ? `${describeSecretRef(password)} (credentials.password)` : undefined,
      timeoutMs: config.timeout,
      connectTimeoutMs: Math.min(config.timeout, CONNECT_TIMEOUT_MS),
    };
  }

  /** Objects this rank tracks now (for tests and reports). */
  get liveObjects(): number {
    return this.pool.size;
  }

  async setup(): Promise<void> {
    const user = this.failure.accessKey;
    this.agents = { http: new HttpAgent({ keepAlive: true, maxSockets: this.maxSockets }), https: new HttpsAgent({ keepAlive: true, maxSockets: this.maxSockets }) };
    this.s3 = new S3Client({
      endpoint: this.origin,
      region: this.region,
      // MinIO and s3rver serve buckets as paths; AWS S3 still answers them too.
      forcePathStyle: true,
      ...(user !== undefined
        ? { credentials: { accessKeyId: user, secretAccessKey: this.options.secret ?? '' } }
        : // No credentials: unsigned requests, as to a public bucket; never the host's ~/.aws.
          { credentials: { accessKeyId: '', secretAccessKey: '' }, signer: { sign: async (request) => request } }),
      // Every failure is counted, none retried away: the SDK's retries would hide them inside the latency.
      maxAttempts: 1,
      // No CRC of every body on this host's CPU: the load is the server's. (S3 verifies the SigV4 payload hash.)
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Bodies go at once, as warp's do, not after a 100-continue round trip.
      expectContinueHeader: false,
      requestHandler: {
        httpAgent: this.agents.http,
        httpsAgent: this.agents.https,
        connectionTimeout: this.failure.connectTimeoutMs,
        requestTimeout: this.config.timeout,
        throwOnRequestTimeout: true,
        socketTimeout: this.config.timeout,
      },
    });
    const site = this.site();
    const { leftovers } = await openBucket(site, { create: this.config.createBucket, keep: this.config.keep, rankPrefix: this.rankPrefix, createdMarker: this.createdMarker });
    this.opened = true;
    // Objects of an earlier try of this run would skew the listing and the stored bytes.
    if (leftovers) await emptyPrefix(site, this.rankPrefix);
    this.payload = Buffer.allocUnsafe(this.bufferBytes);
    randomFillSync(this.payload);
    let next = 0;
    const worker = async () => {
      while (next < this.prefill.length) {
        const size = this.prefill[next++];
        await this.put(size);
      }
    };
    await Promise.all(Array.from({ length: Math.min(PREFILL_CONCURRENCY, this.prefill.length) }, worker));
  }

  async execute(op: Operation): Promise<OperationResult> {
    const size = op.size ?? this.defaultSize;
    switch (op.name) {
      case 'put':
        return this.put(size);
      case 'get':
        return this.withObject(size, 'GET', (key) => this.get(key));
      case 'head':
        return this.withObject(size, 'HEAD', async (key) => {
          await this.client().send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
          return {};
        });
      case 'delete':
        return this.withObject(size, 'DELETE', async (key) => {
          // Forget the key first so no other op picks an object being removed.
          this.pool.removed(size, key);
          await this.client().send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
          return {};
        });
      case 'list': {
        const page = await this.client()
          .send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.rankPrefix, MaxKeys: this.config.listMaxKeys }))
          .catch((e: unknown) => {
            throw this.fail(e, 'LIST');
          });
        return { metrics: { keys: page.KeyCount ?? page.Contents?.length ?? 0 } };
      }
      default:
        throw new Error(`s3 has no operation "${op.name}"; use ${S3_OPERATIONS.join(', ')}`);
    }
  }

  async teardown(): Promise<void> {
    const s3 = this.s3;
    this.s3 = undefined;
    if (!s3) return;
    try {
      const site = this.site(s3);
      for (const [uploadId, key] of this.openUploads) {
        await s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => {});
      }
      this.openUploads.clear();
      if (this.opened && !this.config.keep) {
        await emptyPrefix(site, this.rankPrefix);
        await removeIfCreated(site, this.createdMarker);
      }
    } finally {
      this.opened = false;
      this.payload = Buffer.alloc(0);
      s3.destroy();
      this.agents?.http.destroy();
      this.agents?.https.destroy();
      this.agents = undefined;
    }
  }

  private client(): S3Client {
    if (!this.s3) throw new Error('s3 client used before setup()');
    return this.s3;
  }

  private site(s3 = this.client()): BucketSite {
    return { s3, bucket: this.bucket, region: this.region, fail: (e, action) => this.fail(e, action) };
  }

  private fail(e: unknown, action: string): Error {
    return new Error(s3Reason(e, { ...this.failure, action }));
  }

  /**
   * Runs `fn` on a live object of `size` (`fn` throws the SDK's own errors). With none, or when a concurrent
   * delete removed the chosen one first, the request becomes a put instead:
   * a missing object here is the benchmark's doing, not the storage's fault.
   */
  private async withObject(size: number, action: string, fn: (key: string) => Promise<OperationResult>): Promise<OperationResult> {
    const key = action === 'DELETE' ? this.pickUnread(size) : this.pool.pick(size, this.pickRandom());
    if (key !== undefined) {
      // A delete never takes an object a get or head is reading: that read would find nothing and turn into a put.
      if (action !== 'DELETE') this.reading.set(key, (this.reading.get(key) ?? 0) + 1);
      try {
        return await fn(key);
      } catch (e) {
        const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status !== 404 || (e as Error).name === 'NoSuchBucket' || this.pool.has(size, key)) throw this.fail(e, action);
      } finally {
        if (action !== 'DELETE') {
          const n = this.reading.get(key)! - 1;
          if (n === 0) this.reading.delete(key);
          else this.reading.set(key, n);
        }
      }
    }
    return { ...(await this.put(size)), as: 'put' };
  }

  /** A live object no read has in flight: a few draws, as reads in flight are few beside the objects. */
  private pickUnread(size: number): string | undefined {
    for (let i = 0; i < 16; i++) {
      const key = this.pool.pick(size, this.pickRandom());
      if (key === undefined) return undefined;
      if (!this.reading.has(key)) return key;
    }
    return undefined;
  }

  private async get(key: string): Promise<OperationResult> {
    const started = performance.now();
    let first: number | undefined;
    let bytes = 0;
    const res = await this.client().send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    // warp's TTFB for a GET: from the request's start to the first byte of the body.
    for await (const chunk of res.Body as AsyncIterable<Uint8Array>) {
      first ??= performance.now();
      bytes += chunk.length;
    }
    return { metrics: { bytes, ttfb: (first ?? performance.now()) - started } };
  }

  /** Writes an object of `size`: one PUT up to the threshold, a multipart upload above it. */
  private async put(size: number): Promise<OperationResult> {
    // The payload holds the largest body the plan allows; a size outside workload.objectSizes could outgrow it.
    if (Math.min(size, size > this.config.multipart.threshold ? this.config.multipart.partSize : size) > this.payload.length) {
      throw new Error(`a put of ${size} bytes is outside workload.objectSizes; the engine draws sizes from there`);
    }
    const key = this.pool.keyFor(size, this.pickRandom());
    const result = size > this.config.multipart.threshold ? await this.multipart(key, size) : await this.single(key, size);
    this.pool.added(size, key);
    return result;
  }

  private async single(key: string, size: number): Promise<OperationResult> {
    const times: RequestTimes = {};
    try {
      await observe(times, () => this.client().send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: this.payload.subarray(0, size), ContentLength: size })));
    } catch (e) {
      throw this.fail(e, 'PUT');
    }
    return { metrics: withTtfb({ bytes: size, parts: 1 }, afterUpload(times)) };
  }

  private async multipart(key: string, size: number): Promise<OperationResult> {
    const s3 = this.client();
    const lengths = partLengths(size, this.config.multipart.partSize);
    let uploadId: string | undefined;
    let action = 'CreateMultipartUpload';
    try {
      uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }))).UploadId;
      if (!uploadId) throw new Error('the server answered CreateMultipartUpload without an UploadId');
      this.openUploads.set(uploadId, key);
      action = 'UploadPart';
      const etags: string[] = new Array(lengths.length);
      const times: RequestTimes[] = lengths.map(() => ({}));
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < lengths.length; i = next++) {
          // Every part is a slice of the same payload: the buffer stays one part big, whatever the object size.
          const part = await observe(times[i], () =>
            s3.send(new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: this.payload.subarray(0, lengths[i]), ContentLength: lengths[i] })),
          );
          etags[i] = part.ETag ?? '';
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.config.multipart.concurrency, lengths.length) }, worker));
      action = 'CompleteMultipartUpload';
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
      this.openUploads.delete(uploadId);
      // The object's last byte left in the part that finished sending last: its answer is the upload's first byte.
      const last = times.reduce((a, b) => ((b.bodySent ?? -1) > (a.bodySent ?? -1) ? b : a));
      return { metrics: withTtfb({ bytes: size, parts: lengths.length }, afterUpload(last)) };
    } catch (e) {
      if (uploadId) {
        this.openUploads.delete(uploadId);
        await s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => {});
      }
      throw this.fail(e, action);
    }
  }
}

function withTtfb(metrics: Record<string, number>, putTtfb: number | undefined): Record<string, number> {
  if (putTtfb !== undefined) metrics.putTtfb = putTtfb;
  return metrics;
}

/** Credentials come in pairs: an access key id (user) with its secret key (password), or neither. */
function credentialProblems(service: Connection | undefined, secret: string | undefined): ConfigProblem[] {
  const c = service?.credentials;
  if (c?.user !== undefined && secret === undefined) {
    return [{ path: 'service.credentials.password', message: `access key "${c.user}" needs its secret key: set credentials.password to {file: /path} or {env: NAME} on the Service` }];
  }
  if (c?.user === undefined && secret !== undefined) {
    return [{ path: 'service.credentials.user', message: 'a secret key needs its access key id: set credentials.user on the Service' }];
  }
  return [];
}
