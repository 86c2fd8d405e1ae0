// faiss-node (an optional dependency), loaded so several threads can use it, and
// what its API lacks done through Faiss's serialized index format.
//
// Two facts about faiss-node 0.5.1 shape this file and the pool:
// - Its static methods (fromFactory, fromBuffer) create the index object through
//   a constructor reference kept in a C++ static, overwritten by each thread
//   that loads the addon: called from any other thread, Node aborts ("Entering
//   the V8 API without proper locking"). Loading the addon again (process.dlopen)
//   runs its init again for the calling thread, so `faissModule()` does that on
//   every call, and the pool lets one thread at a time make an index.
//   Instance methods (search, add, removeIds, toBuffer) are safe in parallel.
// - Only fromFactory and mergeFrom turn a Faiss exception into a JS error;
//   elsewhere (train, add, removeIds) a Faiss exception ends the process. So the
//   client checks before calling: training size, k, delete support.
//
// It has no ParameterSpace, so efSearch, efConstruction and nprobe are set by
// editing the serialized index (faiss/impl/index_write.cpp, stable since 1.5):
// toBuffer, patch the field, fromBuffer.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The part of faiss-node's Index this workload uses (typed here: the package may be absent at build time). */
export interface FaissIndex {
  ntotal(): number;
  getDimension(): number;
  isTrained(): boolean;
  add(x: number[]): void;
  train(x: number[]): void;
  search(x: number[], k: number): { distances: number[]; labels: number[] };
  removeIds(ids: number[]): number;
  toBuffer(): Buffer;
}

export interface FaissModule {
  Index: {
    fromFactory(dimension: number, descriptor: string, metric?: number): FaissIndex;
    fromBuffer(buffer: Buffer): FaissIndex;
  };
}

/** faiss::MetricType */
export const FAISS_METRIC = { innerProduct: 0, l2: 1 } as const;

export class FaissMissing extends Error {
  constructor(detail: string) {
    super(
      `faiss-node is not installed (${detail}). It is an optional dependency built offline against Debian's libfaiss: ` +
        'apt-get install libfaiss-dev && bash scripts/build-faiss-node.sh && npm_config_faiss_node_local_prebuilds=$PWD/.cache/prebuilds npm ci ' +
        '(DEVELOPERS.md, "faiss-node"); on a cluster, run that where the runner runs',
    );
    this.name = 'FaissMissing';
  }
}

/** The addon's file, or FaissMissing saying how to build it. */
export function addonPath(): string {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve('faiss-node/package.json'));
  } catch {
    throw new FaissMissing('the package is not in node_modules');
  }
  for (const build of ['Release', 'Debug']) {
    const p = join(dir, 'build', build, 'faiss-node.node');
    if (existsSync(p)) return p;
  }
  throw new FaissMissing(`the package is there but its native addon is not built (${join(dir, 'build/Release/faiss-node.node')} is missing)`);
}

/** faiss-node, initialised for the calling thread (see the top of this file): call it right before fromFactory or fromBuffer. */
export function faissModule(path = addonPath()): FaissModule {
  const m = { exports: {} as FaissModule };
  try {
    process.dlopen(m, path);
  } catch (e) {
    throw new FaissMissing(`${path} does not load: ${(e as Error).message}`);
  }
  return m.exports;
}

/** What an index is at its top level, from its serialized four-character code. */
export type IndexFamily = 'flat' | 'ivf' | 'hnsw' | 'other';

export function familyOf(serialized: Buffer): IndexFamily {
  const code = serialized.subarray(0, 4).toString('latin1');
  if (code === 'IxF2' || code === 'IxFI') return 'flat';
  if (code.startsWith('Iw')) return 'ivf';
  if (code.startsWith('IHN')) return 'hnsw';
  return 'other';
}

/**
 * The family a factory string makes, read from its first component, for checks
 * made without Faiss (validation in the controller). "IVF1024_HNSW32,Flat" is
 * an IVF index (HNSW only finds its lists); "PCA64,IVF..." is a pre-transform.
 */
export function familyOfDescriptor(descriptor: string): IndexFamily {
  const first = descriptor.split(',')[0].trim();
  if (descriptor.trim() === 'Flat') return 'flat';
  if (/^IVF\d+/.test(first)) return 'ivf';
  if (/^HNSW\d+/.test(first)) return 'hnsw';
  return 'other';
}

/**
 * Training vectors the descriptor's k-means needs at least: one per IVF list,
 * 2^nbits per PQ sub-quantizer. Fewer makes Faiss throw inside train, which
 * ends the process, so the client checks first.
 */
export function minTrainingVectors(descriptor: string): number {
  let need = 0;
  const ivf = /IVF(\d+)/.exec(descriptor);
  if (ivf) need = Math.max(need, Number(ivf[1]));
  const imi = /IMI\d+x(\d+)/.exec(descriptor);
  if (imi) need = Math.max(need, 2 ** Number(imi[1]));
  // PQ16, PQ8x4, and OPQ16 (which trains a PQ too): 2^nbits centroids each, 8 bits unless given.
  for (const pq of descriptor.matchAll(/PQ(\d+)(?:x(\d+))?/g)) need = Math.max(need, 2 ** Number(pq[2] ?? 8));
  return need;
}

// index_write.cpp, write_index_header: fourcc(4) d(int32) ntotal(int64) dummy(int64) dummy(int64) is_trained(uint8) metric_type(int32) [metric_arg(float) when metric_type > 1]
const HEADER_END = 37;
const METRIC_AT = 33;
// write_ivf_header: the header, then nlist(size_t), nprobe(size_t).
const NLIST_AT = HEADER_END;
const NPROBE_AT = HEADER_END + 8;

function headerEnd(b: Buffer): number {
  return HEADER_END + (b.readInt32LE(METRIC_AT) > 1 ? 4 : 0);
}

/** write_HNSW: five vectors (size_t length, then items), then entry_point, max_level, efConstruction, efSearch, upper_beam (int32 each). */
function hnswFields(b: Buffer): { efConstruction: number; efSearch: number } {
  let o = headerEnd(b);
  for (const itemBytes of [8, 4, 4, 8, 4]) {
    const n = Number(b.readBigUInt64LE(o));
    o += 8 + n * itemBytes;
  }
  return { efConstruction: o + 8, efSearch: o + 12 };
}

export type IndexParameter = 'nprobe' | 'efSearch' | 'efConstruction';

/** Where a parameter lives in this serialized index, or why it has none. */
function fieldOf(b: Buffer, name: IndexParameter): { at: number; bytes: 4 | 8 } | string {
  const family = familyOf(b);
  if (name === 'nprobe') return family === 'ivf' ? { at: NPROBE_AT, bytes: 8 } : `nprobe belongs to IVF indexes; this one is ${family}`;
  if (family !== 'hnsw') return `${name} belongs to HNSW indexes; this one is ${family}`;
  return { at: hnswFields(b)[name], bytes: 4 };
}

export function readParameter(serialized: Buffer, name: IndexParameter | 'nlist'): number {
  if (name === 'nlist') {
    if (familyOf(serialized) !== 'ivf') throw new Error('nlist belongs to IVF indexes');
    return Number(serialized.readBigUInt64LE(NLIST_AT));
  }
  const f = fieldOf(serialized, name);
  if (typeof f === 'string') throw new Error(f);
  return f.bytes === 8 ? Number(serialized.readBigUInt64LE(f.at)) : serialized.readInt32LE(f.at);
}

/** A copy of the serialized index with the parameter set; fromBuffer it to use it. */
export function withParameter(serialized: Buffer, name: IndexParameter, value: number): Buffer {
  const f = fieldOf(serialized, name);
  if (typeof f === 'string') throw new Error(f);
  const out = Buffer.from(serialized);
  if (f.bytes === 8) out.writeBigUInt64LE(BigInt(value), f.at);
  else out.writeInt32LE(value, f.at);
  return out;
}
