// What an s3 run will do, worked out before anything is opened: the sizes,
// which go up in parts and how, the prefill, and the keys each rank owns.
import { parseSize } from '../../api/units.js';
import type { ConfigProblem } from '../client.js';
import { parseSizeWeights, type SizeWeight } from '../engine/mix.js';
import { FileSet } from '../file-storage/client.js';
import { S3_OPERATIONS, type S3Workload } from './schema.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
/** S3's limits: parts of 5MiB at least (but the last), 10,000 parts, 5GiB per PUT or part, 5TiB per object. */
export const MIN_PART = 5 * MiB;
export const MAX_PART = 5 * GiB;
export const MAX_PARTS = 10_000;
export const MAX_OBJECT = 5 * 1024 ** 4;
/** One payload buffer is held in memory (a single PUT's body or a part); beyond this a run would swap. */
export const MAX_BUFFER = GiB;
/** Bytes a rank keeps stored at most; at the cap, puts overwrite live objects instead of adding. */
const STORED_BYTES = 8 * GiB;
const MAX_OBJECTS_PER_SIZE = 10_000;

export interface S3Plan {
  /** Sizes with weights, as the engine draws them. */
  sizes: SizeWeight[];
  /** The largest body one request carries: what the payload buffer must hold. */
  bufferBytes: number;
}

/** Every problem with the workload at once, paths rooted at `workload`. */
export function planS3(w: S3Workload): { plan: S3Plan; problems: ConfigProblem[] } {
  const { sizes, problems } = parseSizeWeights(w.objectSizes, 'workload.objectSizes');
  const { threshold, partSize } = w.multipart;
  const unknown = Object.keys(w.operationMix).filter((k) => !(S3_OPERATIONS as readonly string[]).includes(k));
  if (unknown.length > 0) problems.push({ path: 'workload.operationMix', message: `unknown operation(s) ${unknown.join(', ')}; use ${S3_OPERATIONS.join(', ')}` });
  if (!Object.values(w.operationMix).some((x) => x > 0)) problems.push({ path: 'workload.operationMix', message: 'give at least one operation a weight greater than 0' });
  if (partSize < MIN_PART) problems.push({ path: 'workload.multipart.partSize', message: `S3 servers refuse parts under 5MiB (but the last); set 5MiB or more, got ${partSize} bytes` });
  if (partSize > MAX_PART) problems.push({ path: 'workload.multipart.partSize', message: 'a part carries at most 5GiB; set 5GiB or less' });
  if (threshold > MAX_PART) problems.push({ path: 'workload.multipart.threshold', message: 'a single PUT carries at most 5GiB; set the threshold to 5GiB or less' });
  for (const key of Object.keys(w.objectSizes)) {
    let bytes: number;
    try {
      bytes = parseSize(key);
    } catch {
      continue; // parseSizeWeights reported it
    }
    const at = `workload.objectSizes["${key}"]`;
    if (bytes > MAX_OBJECT) problems.push({ path: at, message: 'an S3 object holds at most 5TiB' });
    else if (bytes > threshold && partSize >= MIN_PART && Math.ceil(bytes / partSize) > MAX_PARTS) {
      problems.push({ path: at, message: `needs ${Math.ceil(bytes / partSize)} parts of workload.multipart.partSize, S3 allows ${MAX_PARTS}; raise partSize to at least ${Math.ceil(bytes / MAX_PARTS / MiB)}MiB` });
    }
  }
  const live = sizes.filter((s) => s.weight > 0);
  const largestSingle = Math.max(0, ...live.filter((s) => s.bytes <= threshold).map((s) => s.bytes));
  const parted = live.some((s) => s.bytes > threshold);
  const bufferBytes = Math.max(largestSingle, parted ? partSize : 0);
  if (bufferBytes > MAX_BUFFER) {
    const which = largestSingle >= bufferBytes ? 'workload.multipart.threshold' : 'workload.multipart.partSize';
    problems.push({ path: which, message: `one request would carry ${Math.round(bufferBytes / MiB)}MiB, held in memory; keep single PUTs and parts at 1GiB or less (lower ${which})` });
  }
  return { plan: { sizes, bufferBytes }, problems };
}

/** The body lengths of an object's parts: `partSize` each, the rest in the last. */
export function partLengths(size: number, partSize: number): number[] {
  const n = Math.max(1, Math.ceil(size / partSize));
  return Array.from({ length: n }, (_, i) => (i < n - 1 ? partSize : size - partSize * (n - 1)));
}

/**
 * Sizes of `n` prefill objects in proportion to the weights (largest
 * remainder), at least one of each size when n allows, so a get of any size
 * finds an object from the start.
 */
export function prefillSizes(sizes: readonly SizeWeight[], n: number): number[] {
  const live = sizes.filter((s) => s.weight > 0).sort((a, b) => b.weight - a.weight);
  if (n <= 0 || live.length === 0) return [];
  if (n < live.length) return live.slice(0, n).map((s) => s.bytes);
  const total = live.reduce((sum, s) => sum + s.weight, 0);
  const ideal = live.map((s) => (n * s.weight) / total);
  const counts = ideal.map((x) => Math.floor(x));
  let left = n - counts.reduce((a, b) => a + b, 0);
  for (const { i } of ideal.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r)) {
    if (left-- <= 0) break;
    counts[i]++;
  }
  // A size with none takes one from the size most over its share.
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0) continue;
    let donor = 0;
    for (let j = 1; j < counts.length; j++) if (counts[j] - ideal[j] > counts[donor] - ideal[donor]) donor = j;
    counts[donor]--;
    counts[i]++;
  }
  return live.flatMap((s, i) => Array.from({ length: counts[i] }, () => s.bytes));
}

/** The keys of one rank: `<keyPrefix><runId>/r<rank>/`, and where the run marks a bucket it created. */
export function keyLayout(keyPrefix: string, runId: string, rank: number): { rankPrefix: string; createdMarker: string } {
  return { rankPrefix: `${keyPrefix}${runId}/r${rank}/`, createdMarker: `${keyPrefix}${runId}/.bucket-created-by-aifb` };
}

/**
 * The live objects of one rank, one set per size so a get of a drawn size
 * reads an object of that size. Bounded by count and bytes: at a set's cap,
 * a put overwrites one of its objects instead of adding one.
 */
export class ObjectPool {
  private readonly bySize = new Map<number, FileSet>();
  private nextId = 0;

  constructor(
    readonly prefix: string,
    sizes: readonly SizeWeight[],
    prefill: readonly number[],
  ) {
    const live = sizes.filter((s) => s.weight > 0);
    const total = live.reduce((sum, s) => sum + s.weight, 0);
    for (const s of live) {
      const byBytes = Math.floor((STORED_BYTES * (s.weight / total)) / Math.max(1, s.bytes));
      const prefilled = prefill.filter((b) => b === s.bytes).length;
      this.bySize.set(s.bytes, new FileSet(Math.max(1, prefilled, Math.min(MAX_OBJECTS_PER_SIZE, byBytes))));
    }
  }

  /** The key a put of `size` writes: a new one, or at the cap a live one (chosen by `u` in [0, 1)). */
  keyFor(size: number, u: number): string {
    const set = this.bySize.get(size);
    const reuse = set?.full ? set.pick(u) : undefined;
    return reuse ?? `${this.prefix}o${this.nextId++}`;
  }

  added(size: number, key: string): void {
    this.bySize.get(size)?.add(key);
  }

  pick(size: number, u: number): string | undefined {
    return this.bySize.get(size)?.pick(u);
  }

  has(size: number, key: string): boolean {
    return this.bySize.get(size)?.has(key) ?? false;
  }

  removed(size: number, key: string): void {
    this.bySize.get(size)?.remove(key);
  }

  /** Live objects of every size (for tests and reports). */
  get size(): number {
    let n = 0;
    for (const set of this.bySize.values()) n += set.size;
    return n;
  }
}
