// POSIX file-storage client: writes, reads, stats and deletes files under
// basePath/<runId>-r<rank>/ with one prebuilt payload and a bounded file set.
import { randomFillSync } from 'node:crypto';
import { mkdir, open, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type BenchmarkClient, type ConfigProblem, type Operation, type OperationMix, type OperationResult } from '../client.js';
import { parseSizeWeights, type SizeWeight } from '../engine/mix.js';
import { FILE_STORAGE_OPERATIONS, type FileStorageWorkload } from './schema.js';

/** The payload buffer is held in memory once; beyond this a run would swap. */
export const MAX_FILE_SIZE = 1024 ** 3;
/** Disk budget for the live file set: with big files, fewer are kept. */
const FILE_SET_BYTES = 8 * 1024 ** 3;
const MAX_FILES = 10_000;
/** Reads stream through a chunk this big at most, whatever the file size. */
const READ_CHUNK = 4 * 1024 ** 2;

export interface FileStorageOptions {
  runId: string;
  rank: number;
}

/** Every problem with the workload at once, paths rooted at `workload`. */
export function validateFileStorage(w: FileStorageWorkload): { sizes: SizeWeight[]; problems: ConfigProblem[] } {
  const { sizes, problems } = parseSizeWeights(w.fileSizes, 'workload.fileSizes');
  for (const s of sizes) {
    if (s.bytes > MAX_FILE_SIZE) {
      problems.push({ path: 'workload.fileSizes', message: `size ${s.bytes} bytes is above the 1GiB limit per file; use several smaller files` });
    }
  }
  const unknown = Object.keys(w.operationMix).filter((k) => !(FILE_STORAGE_OPERATIONS as readonly string[]).includes(k));
  if (unknown.length > 0) problems.push({ path: 'workload.operationMix', message: `unknown operation(s) ${unknown.join(', ')}; use ${FILE_STORAGE_OPERATIONS.join(', ')}` });
  if (!Object.values(w.operationMix).some((x) => x > 0)) problems.push({ path: 'workload.operationMix', message: 'give at least one operation a weight greater than 0' });
  if (w.basePath.trim() === '') problems.push({ path: 'workload.basePath', message: 'must be a folder path, e.g. /scratch/aifb' });
  return { sizes, problems };
}

/**
 * Live file names with O(1) add, random pick and remove, capped so memory
 * and disk stay bounded however long the run: at the cap, writes overwrite.
 */
export class FileSet {
  private readonly names: string[] = [];
  private readonly index = new Map<string, number>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.names.length;
  }

  get full(): boolean {
    return this.names.length >= this.capacity;
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  add(name: string): void {
    if (this.index.has(name) || this.full) return;
    this.index.set(name, this.names.length);
    this.names.push(name);
  }

  remove(name: string): void {
    const i = this.index.get(name);
    if (i === undefined) return;
    const last = this.names.pop()!;
    this.index.delete(name);
    if (last !== name) {
      this.names[i] = last;
      this.index.set(last, i);
    }
  }

  /** A uniformly chosen live name, or undefined when empty. `u` is in [0, 1). */
  pick(u: number): string | undefined {
    return this.names.length === 0 ? undefined : this.names[Math.floor(u * this.names.length)];
  }
}

const bytes = (n: number): OperationResult => ({ metrics: { bytes: n } });

export class FileStorageClient implements BenchmarkClient {
  readonly operations = FILE_STORAGE_OPERATIONS;
  readonly mix: OperationMix;
  readonly dir: string;
  private readonly files: FileSet;
  private readonly maxSize: number;
  private payload = Buffer.alloc(0);
  private scratch = Buffer.alloc(0);
  private nextId = 0;
  // File picks need not be reproducible across runs: which file is read does
  // not change the load, and this keeps the engine's seeded stream untouched.
  private readonly pickRandom = Math.random;

  constructor(
    private readonly config: FileStorageWorkload,
    options: FileStorageOptions,
  ) {
    const { sizes, problems } = validateFileStorage(config);
    if (problems.length > 0) throw new ConfigError(problems);
    this.mix = { operations: { ...config.operationMix }, sizes };
    this.maxSize = Math.max(0, ...sizes.filter((s) => s.weight > 0).map((s) => s.bytes));
    this.dir = join(config.basePath, `${options.runId}-r${options.rank}`);
    const byBudget = Math.floor(FILE_SET_BYTES / Math.max(1, this.maxSize));
    this.files = new FileSet(Math.max(1, config.prefill, Math.min(MAX_FILES, byBudget)));
  }

  /** How many files the client currently tracks (for tests and reports). */
  get liveFiles(): number {
    return this.files.size;
  }

  async setup(): Promise<void> {
    // A folder left by an earlier attempt of the same run would skew reads.
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
    this.payload = Buffer.allocUnsafe(this.maxSize);
    randomFillSync(this.payload);
    this.scratch = Buffer.allocUnsafe(Math.max(1, Math.min(this.maxSize, READ_CHUNK)));
    const prefillSize = this.maxSize;
    for (let i = 0; i < this.config.prefill; i++) await this.write(prefillSize);
  }

  async execute(op: Operation): Promise<OperationResult> {
    const size = op.size ?? this.maxSize;
    switch (op.name) {
      case 'write':
        return bytes(await this.write(size));
      case 'read':
        return this.withFile((path) => this.read(path), size);
      case 'stat':
        return this.withFile(async (path) => {
          await stat(path);
          return {};
        }, size);
      case 'delete':
        return this.withFile(async (path, name) => {
          // Forget the name first so no other op picks a file being removed.
          this.files.remove(name);
          await unlink(path);
          return {};
        }, size);
      default:
        throw new Error(`file-storage has no operation "${op.name}"; use ${FILE_STORAGE_OPERATIONS.join(', ')}`);
    }
  }

  async teardown(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    this.payload = Buffer.alloc(0);
    this.scratch = Buffer.alloc(0);
  }

  /**
   * Runs `fn` on a random live file. With none, or when a concurrent delete
   * removed the chosen one first, the request becomes a write instead: a
   * missing file here is the benchmark's doing, not the storage's fault.
   */
  private async withFile(fn: (path: string, name: string) => Promise<OperationResult>, size: number): Promise<OperationResult> {
    const name = this.files.pick(this.pickRandom());
    if (name !== undefined) {
      try {
        return await fn(join(this.dir, name), name);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || this.files.has(name)) throw e;
      }
    }
    return { metrics: { bytes: await this.write(size) }, as: 'write' };
  }

  private async write(size: number): Promise<number> {
    // At capacity, overwrite a live file so the folder stops growing.
    const reuse = this.files.full ? this.files.pick(this.pickRandom()) : undefined;
    const name = reuse ?? `f-${this.nextId++}`;
    const fh = await open(join(this.dir, name), 'w');
    try {
      let done = 0;
      while (done < size) {
        const { bytesWritten } = await fh.write(this.payload, done, size - done, done);
        done += bytesWritten;
      }
      if (this.config.fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    this.files.add(name);
    return size;
  }

  private async read(path: string): Promise<OperationResult> {
    const fh = await open(path, 'r');
    try {
      let total = 0;
      // The scratch buffer is shared by concurrent reads: its content is discarded.
      for (;;) {
        const { bytesRead } = await fh.read(this.scratch, 0, this.scratch.length, total);
        if (bytesRead === 0) break;
        total += bytesRead;
      }
      return bytes(total);
    } finally {
      await fh.close();
    }
  }
}
