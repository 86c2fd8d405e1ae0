// The faiss workload's search threads. Faiss runs in the runner's process and its
// calls are synchronous: one search on the event loop would stall the engine's
// clock, its other requests and its timers, so nothing would be measured honestly.
//
// What concurrency means here: Faiss is a library, not a server, so aifb plays
// the server. `threads` worker threads each hold a replica of the index (memory
// x threads). A search goes to the thread with the fewest requests queued; the
// engine's requests in flight (closed-loop workers, or the open-loop arrivals
// under its cap) beyond `threads` wait in those queues, and the wait counts in
// their latency, as a server's queue would. Writes (insert, update, delete) go
// to every replica and end when all have applied them; each thread answers in
// order, so a search sent after a write ended sees it. Within one request, a
// batch of queries (queryBatch > 1) is one Faiss call that Faiss spreads over
// its OpenMP threads (OMP_NUM_THREADS where the runner runs); single queries
// stay on their thread.
//
// A replica is made by the first thread (build) and copied to the others
// through Faiss's serialized form, so every thread searches the same graph.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { IndexFamily, IndexParameter } from './native.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker.js';

type Body<R> = R extends { id: number } ? Omit<R, 'id'> : never;
type Request = Body<WorkerRequest>;

interface Thread {
  worker: Worker;
  pending: Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>;
  failed?: Error;
}

export interface BuildResult {
  family: IndexFamily;
  nlist?: number;
  trainMs: number;
  addMs: number;
  /** Copying the built index to the other threads: aifb's cost, not Faiss's. */
  replicateMs: number;
}

// Making an index (fromFactory, fromBuffer) must happen on one thread at a time
// in the whole process (native.ts says why); every pool queues on this.
let indexMaking: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const run = indexMaking.then(fn, fn);
  indexMaking = run.catch(() => {});
  return run;
}

/**
 * The compiled worker beside this module; when running from TypeScript sources
 * (vitest), the one `npm run build` put in dist/, which must not be older than
 * its sources.
 */
export function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'worker.js');
  const root = join(dirname(here), '..', '..');
  const compiled = join(root, 'dist', 'clients', 'faiss', 'worker.js');
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: run npm run build (the faiss worker thread runs compiled JavaScript)`);
  for (const source of ['clients/faiss/worker.ts', 'clients/faiss/native.ts', 'clients/vector/generate.ts']) {
    if (statSync(join(root, source)).mtimeMs > statSync(compiled).mtimeMs) throw new Error(`${compiled} is older than ${source}: run npm run build`);
  }
  return compiled;
}

export class FaissPool {
  private readonly threads: Thread[];
  private nextId = 0;
  private rr = 0;

  constructor(threads: number, init: WorkerInit) {
    const script = workerScript();
    this.threads = Array.from({ length: threads }, () => {
      const t: Thread = { worker: new Worker(script, { workerData: init }), pending: new Map() };
      t.worker.on('message', (r: WorkerReply) => {
        const p = t.pending.get(r.id);
        if (!p) return;
        t.pending.delete(r.id);
        if (r.ok) p.resolve(r);
        else p.reject(new Error(r.error));
      });
      const fail = (e: Error) => {
        t.failed = e;
        for (const p of t.pending.values()) p.reject(e);
        t.pending.clear();
      };
      t.worker.on('error', (e) => fail(new Error(`a faiss thread failed: ${e.message}`)));
      t.worker.on('exit', (code) => fail(new Error(`a faiss thread exited (code ${code})`)));
      return t;
    });
  }

  get size(): number {
    return this.threads.length;
  }

  /** Builds the index on the first thread (train if needed, add the base) and copies it to the others. */
  async build(descriptor: string, trainCount: number, efConstruction?: number): Promise<BuildResult> {
    const first = this.threads[0];
    const built = await oneAtATime(() => this.send(first, { op: 'build', descriptor, trainCount, ...(efConstruction !== undefined ? { efConstruction } : {}) }));
    const t0 = performance.now();
    if (this.threads.length > 1) {
      const { buffer, ids } = (await this.send(first, { op: 'export' })) as { buffer: Uint8Array; ids: number[] };
      for (const t of this.threads.slice(1)) await oneAtATime(() => this.send(t, { op: 'import', buffer, ids }));
    }
    return {
      family: built.family as IndexFamily,
      ...(built.nlist !== undefined ? { nlist: built.nlist as number } : {}),
      trainMs: built.trainMs as number,
      addMs: built.addMs as number,
      replicateMs: performance.now() - t0,
    };
  }

  /** Sets a search or build parameter on every replica (a copy of each through Faiss's serialized form). */
  async set(name: IndexParameter, value: number): Promise<void> {
    for (const t of this.threads) await oneAtATime(() => this.send(t, { op: 'set', name, value }));
  }

  /** A parameter as the first replica holds it now. */
  async read(name: IndexParameter | 'nlist'): Promise<number> {
    return (await this.send(this.threads[0], { op: 'read', name })).value as number;
  }

  /** Nearest k ids per query (row-major, -1 where fewer), on the least busy thread. */
  async search(query: { queries: number[] } | { vectors: Float32Array }, k: number, labels?: number[]): Promise<Int32Array> {
    const r = await this.send(this.leastBusy(), { op: 'search', ...query, k, ...(labels ? { labels } : {}) });
    return r.ids as Int32Array;
  }

  add(ids: number[], vectors: Float32Array): Promise<void> {
    return this.everywhere({ op: 'add', ids, vectors });
  }

  remove(ids: number[]): Promise<void> {
    return this.everywhere({ op: 'remove', ids });
  }

  update(ids: number[], vectors: Float32Array): Promise<void> {
    return this.everywhere({ op: 'update', ids, vectors });
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private leastBusy(): Thread {
    // Round-robin start, so threads with equal queues share the work.
    let best = this.threads[this.rr++ % this.threads.length];
    for (const t of this.threads) if (t.pending.size < best.pending.size) best = t;
    return best;
  }

  private async everywhere(m: Request): Promise<void> {
    await Promise.all(this.threads.map((t) => this.send(t, m)));
  }

  private send(t: Thread, m: Request): Promise<Record<string, unknown>> {
    if (t.failed) return Promise.reject(t.failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      t.pending.set(id, { resolve, reject });
      t.worker.postMessage({ ...m, id });
    });
  }
}
