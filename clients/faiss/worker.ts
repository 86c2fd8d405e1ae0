// One search thread of the faiss workload: it owns one replica of the index and
// answers the pool's messages in order (so a search sent after an insert sees
// it). Faiss labels are positions in the index; this thread maps them to the
// benchmark's vector ids, since faiss-node has no add_with_ids.
import { parentPort, workerData } from 'node:worker_threads';
import { labelOf } from '../vector/generate.js';
import { faissModule, familyOf, readParameter, withParameter, type FaissIndex, type IndexFamily, type IndexParameter } from './native.js';

export interface WorkerInit {
  addon: string;
  dimension: number;
  /** faiss::MetricType */
  metric: number;
  /** Base vectors and queries, shared with the main thread (SharedArrayBuffer). */
  base: Float32Array;
  count: number;
  queries: Float32Array;
  labels?: { count: number; seed: number };
}

export type WorkerRequest =
  | { op: 'build'; id: number; descriptor: string; trainCount: number; efConstruction?: number }
  | { op: 'export'; id: number }
  | { op: 'import'; id: number; buffer: Uint8Array; ids: number[] }
  | { op: 'set'; id: number; name: IndexParameter; value: number }
  | { op: 'read'; id: number; name: IndexParameter | 'nlist' }
  | { op: 'search'; id: number; queries?: number[]; vectors?: Float32Array; k: number; labels?: number[] }
  | { op: 'add'; id: number; ids: number[]; vectors: Float32Array }
  | { op: 'remove'; id: number; ids: number[] }
  | { op: 'update'; id: number; ids: number[]; vectors: Float32Array };

export type WorkerReply = { id: number; ok: true; [key: string]: unknown } | { id: number; ok: false; error: string };

/** Vectors added per faiss-node call while building: it copies through a JS array, so bound its size. */
const ADD_CHUNK = 8192;

const init = workerData as WorkerInit;
const d = init.dimension;
let index: FaissIndex | undefined;
let family: IndexFamily = 'other';
/** Faiss label (position) -> vector id. */
let ids: number[] = [];

const rows = (v: Float32Array, from: number, n: number): number[] => Array.from(v.subarray(from * d, (from + n) * d));

function current(): FaissIndex {
  if (!index) throw new Error('the index is not built yet');
  return index;
}

function build(m: Extract<WorkerRequest, { op: 'build' }>) {
  let ix = faissModule(init.addon).Index.fromFactory(d, m.descriptor, init.metric);
  // Serialized while empty: cheap, and enough to tell the family and nlist.
  const empty = ix.toBuffer();
  family = familyOf(empty);
  const nlist = family === 'ivf' ? readParameter(empty, 'nlist') : undefined;
  if (m.efConstruction !== undefined) ix = faissModule(init.addon).Index.fromBuffer(withParameter(ix.toBuffer(), 'efConstruction', m.efConstruction));
  const t0 = performance.now();
  if (!ix.isTrained()) ix.train(rows(init.base, 0, m.trainCount));
  const trainMs = performance.now() - t0;
  for (let i = 0; i < init.count; i += ADD_CHUNK) ix.add(rows(init.base, i, Math.min(ADD_CHUNK, init.count - i)));
  const addMs = performance.now() - t0 - trainMs;
  index = ix;
  ids = Array.from({ length: init.count }, (_, i) => i);
  return { trainMs, addMs, family, ntotal: ix.ntotal(), ...(nlist !== undefined ? { nlist } : {}) };
}

/** Nearest k vector ids per query, -1 where there are fewer; with labels, only vectors carrying the query's label. */
function search(m: Extract<WorkerRequest, { op: 'search' }>): Int32Array {
  const ix = current();
  const nq = m.queries ? m.queries.length : m.vectors!.length / d;
  const out = new Int32Array(nq * m.k).fill(-1);
  const ntotal = ix.ntotal();
  if (ntotal === 0) return out;
  const vectorOf = (j: number): number[] => (m.queries ? rows(init.queries, m.queries[j], 1) : rows(m.vectors!, j, 1));
  if (!m.labels) {
    // One call for the batch: Faiss spreads a batch over its OpenMP threads.
    const k = Math.min(m.k, ntotal);
    const x: number[] = [];
    for (let j = 0; j < nq; j++) for (const v of vectorOf(j)) x.push(v);
    const r = ix.search(x, k);
    for (let j = 0; j < nq; j++) for (let i = 0; i < k; i++) out[j * m.k + i] = idOf(r.labels[j * k + i]);
    return out;
  }
  // faiss-node has no search-time filter: fetch more than k, keep the label's, fetch more while short.
  const { count: labels, seed } = init.labels!;
  for (let j = 0; j < nq; j++) {
    const x = vectorOf(j);
    let want = Math.min(ntotal, m.k * labels * 2);
    for (;;) {
      const r = ix.search(x, want);
      let kept = 0;
      for (let i = 0; i < want && kept < m.k; i++) {
        const id = idOf(r.labels[i]);
        if (id >= 0 && labelOf(seed, id, labels) === m.labels[j]) out[j * m.k + kept++] = id;
      }
      if (kept >= m.k || want >= ntotal) break;
      want = Math.min(ntotal, want * 4);
    }
  }
  return out;
}

const idOf = (label: number): number => (label >= 0 && label < ids.length ? ids[label] : -1);

function remove(vectorIds: number[]): number {
  // Flat indexes only: Faiss's remove_ids is missing for HNSW (it would end the process), and for
  // IVF it keeps labels while the next add reuses one (labels come from ntotal). The client checks.
  if (family !== 'flat') throw new Error(`delete needs a Flat index; this one is ${family}`);
  const positions = vectorIds.map((v) => ids.indexOf(v)).filter((p) => p >= 0);
  if (positions.length === 0) return 0;
  const removed = current().removeIds(positions);
  // IndexFlat compacts in order, so the labels after each removed one move down: mirror it.
  const gone = new Set(positions);
  ids = ids.filter((_, p) => !gone.has(p));
  return removed;
}

function handle(m: WorkerRequest): Record<string, unknown> {
  switch (m.op) {
    case 'build':
      return build(m);
    case 'export': {
      const b = current().toBuffer();
      return { buffer: new Uint8Array(b.buffer, b.byteOffset, b.byteLength), ids };
    }
    case 'import': {
      const b = Buffer.from(m.buffer.buffer, m.buffer.byteOffset, m.buffer.byteLength);
      index = faissModule(init.addon).Index.fromBuffer(b);
      family = familyOf(b);
      ids = m.ids;
      return { ntotal: index.ntotal() };
    }
    case 'set':
      index = faissModule(init.addon).Index.fromBuffer(withParameter(current().toBuffer(), m.name, m.value));
      return {};
    case 'read':
      return { value: readParameter(current().toBuffer(), m.name) };
    case 'search':
      return { ids: search(m) };
    case 'add':
      current().add(rows(m.vectors, 0, m.ids.length));
      for (const id of m.ids) ids.push(id);
      return { ntotal: current().ntotal() };
    case 'remove':
      return { removed: remove(m.ids) };
    case 'update':
      // Both in one message, so no search on this replica sees the id missing.
      remove(m.ids);
      current().add(rows(m.vectors, 0, m.ids.length));
      for (const id of m.ids) ids.push(id);
      return {};
  }
}

parentPort!.on('message', (m: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = { id: m.id, ok: true, ...handle(m) };
  } catch (e) {
    reply = { id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  const transfer = reply.ok && reply.ids instanceof Int32Array ? [reply.ids.buffer as ArrayBuffer] : [];
  parentPort!.postMessage(reply, transfer);
});
