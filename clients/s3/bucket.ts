// The bucket around a run: found or created before it, and after it emptied of
// this rank's objects and, when the run created it, removed by the last rank
// to leave. Only keys under our own prefixes are ever deleted.
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

/** Where the bucket is and how to turn an SDK error into a reason (see failure.ts). */
export interface BucketSite {
  s3: S3Client;
  bucket: string;
  region: string;
  fail(e: unknown, action: string): Error;
}

const EMPTY = new Uint8Array(0);

const codeOf = (e: unknown): string | undefined => (e instanceof Error && (e as { $metadata?: unknown }).$metadata ? e.name : undefined);

/**
 * Makes sure the bucket exists and this rank can list, write and delete under
 * `rankPrefix`. Creates it when missing and allowed; then (unless `keep`)
 * leaves `createdMarker` in it, so whichever rank leaves last knows the run
 * created it. Returns whether this call created it, and whether objects of an
 * earlier try of the same run were under the prefix.
 */
export async function openBucket(
  site: BucketSite,
  o: { create: boolean; keep: boolean; rankPrefix: string; createdMarker: string },
): Promise<{ created: boolean; leftovers: boolean }> {
  const { s3, bucket } = site;
  const look = () => s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: o.rankPrefix, MaxKeys: 1 }));
  let created = false;
  let leftovers = false;
  try {
    leftovers = ((await look()).KeyCount ?? 0) > 0;
  } catch (e) {
    if (codeOf(e) !== 'NoSuchBucket') throw site.fail(e, 'LIST');
    if (!o.create) throw new Error(`bucket "${bucket}" does not exist (NoSuchBucket); create it, or set workload.createBucket: true`);
    try {
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          // us-east-1 is the one region S3 wants no constraint for.
          ...(site.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: site.region as never } }),
        }),
      );
      created = true;
    } catch (err) {
      // Another rank of this run (or anyone) made it first: usable if we can list it.
      const code = codeOf(err);
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw site.fail(err, 'CreateBucket');
      try {
        await look();
      } catch {
        throw site.fail(err, 'CreateBucket');
      }
    }
    if (created && !o.keep) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: o.createdMarker, Body: EMPTY, ContentLength: 0 })).catch((e: unknown) => {
        throw site.fail(e, 'PUT');
      });
    }
  }
  // A write and a delete now, so missing rights show before the run rather than as its errors.
  const probe = `${o.rankPrefix}.aifb-probe`;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: probe, Body: EMPTY, ContentLength: 0 })).catch((e: unknown) => {
    throw site.fail(e, 'PUT');
  });
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: probe })).catch((e: unknown) => {
    throw site.fail(e, 'DELETE');
  });
  return { created, leftovers };
}

/** Deletes every object under `prefix`, a page of up to 1000 at a time; returns how many. */
export async function emptyPrefix(site: BucketSite, prefix: string): Promise<number> {
  const { s3, bucket } = site;
  let removed = 0;
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1000 })).catch((e: unknown) => {
      throw site.fail(e, 'LIST');
    });
    const keys = (page.Contents ?? []).map((c) => c.Key).filter((k): k is string => k !== undefined);
    if (keys.length === 0) return removed;
    await deleteKeys(site, keys, prefix);
    removed += keys.length;
    if (!page.IsTruncated) return removed;
  }
}

const statusOf = (e: unknown): number | undefined => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/**
 * Deletes up to 1000 keys with one DeleteObjects; where that fails on the
 * server's side (s3rver's races on it, some S3 stand-ins lack it or want
 * Content-MD5), one DeleteObject at a time instead.
 */
async function deleteKeys(site: BucketSite, keys: string[], prefix: string): Promise<void> {
  const { s3, bucket } = site;
  let done;
  try {
    done = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
  } catch (e) {
    const code = codeOf(e);
    if (!((statusOf(e) ?? 0) >= 500 || code === 'NotImplemented' || code === 'MissingContentMD5' || code === 'InvalidRequest')) throw site.fail(e, 'DeleteObjects');
    for (const Key of keys) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key })).catch((err: unknown) => {
        throw site.fail(err, 'DELETE');
      });
    }
    return;
  }
  const errors = done.Errors ?? [];
  if (errors.length > 0) {
    throw new Error(`could not remove ${errors.length} of ${keys.length} objects under ${prefix} in bucket "${bucket}" (${errors[0].Code}: ${errors[0].Message}); remove them by hand`);
  }
}

/**
 * Removes the bucket when this run created it and nothing but the run's marker
 * is left in it: each rank calls this after emptying its own prefix, so the
 * last one to leave finds it so. Returns whether this call removed it.
 */
export async function removeIfCreated(site: BucketSite, createdMarker: string): Promise<boolean> {
  const { s3, bucket } = site;
  const rest = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 2 })).catch((e: unknown) => {
    if (codeOf(e) === 'NoSuchBucket') return undefined; // another rank removed it already
    throw site.fail(e, 'LIST');
  });
  const keys = rest?.Contents?.map((c) => c.Key) ?? [];
  if (keys.length !== 1 || keys[0] !== createdMarker) return false;
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: createdMarker }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    return true;
  } catch (e) {
    // Another rank got there first, or someone wrote meanwhile: theirs to keep.
    const code = codeOf(e);
    if (code === 'NoSuchBucket' || code === 'BucketNotEmpty') return false;
    throw site.fail(e, 'DeleteBucket');
  }
}
