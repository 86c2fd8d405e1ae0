// One request of a vector workload, the same for every backend: which queries
// a search sends and how its answer is scored against the live ground truth,
// which vectors an insert adds, which live ids an update or delete takes, and
// the truth kept in step with each write as the backend acknowledges it. A
// backend (faiss, chromadb, weaviate) supplies only the four calls.
import { join } from 'node:path';
import type { MetricSample } from '../../api/metrics.js';
import type { OperationResult } from '../client.js';
import { createRng, deriveSeed, type Rng } from '../engine/rng.js';
import type { VectorDataset } from './dataset.js';
import { LiveIds } from './live-ids.js';
import { QueryCursor } from './metrics.js';
import type { VectorOperation, VectorSettings, VectorStreaming } from './schema.js';
import { StreamingInserter } from './streaming.js';

export interface VectorBackend {
  /** The nearest k ids of each query (indices into the dataset's queries), in query order; with `labels` (one per query), among that label's vectors only. */
  search(queries: readonly number[], k: number, labels: readonly number[] | undefined): Promise<ReadonlyArray<ArrayLike<number>>>;
  insert(ids: readonly number[], vectors: Float32Array): Promise<void>;
  /** The same ids, new vectors; the label stays with the id. */
  update(ids: readonly number[], vectors: Float32Array): Promise<void>;
  delete(ids: readonly number[]): Promise<void>;
  /** The nearest k ids of any vector (streaming probes a just-inserted one). */
  searchVector(vector: Float32Array, k: number): Promise<ArrayLike<number>>;
}

export interface VectorRequestOptions {
  /** The load's seed: picks which vector a delete or update takes. */
  seed: number;
  rank: number;
  ranks: number;
  /** The rank's output folder: streaming checkpoints go to rank-N.streaming.jsonl. */
  outDir?: string;
}

export class VectorRequests {
  /** Queries per search request; a sweep may set it per point. */
  queryBatch: number;
  /** Vectors per insert, update or delete; a sweep may set it per point. */
  batchSize: number;
  private readonly cursor: QueryCursor;
  private readonly live: LiveIds | undefined;
  private readonly rng: Rng;
  /** workload.streaming: inserts on a schedule beside the requests, their metrics added to the next request's. */
  private readonly streaming: StreamingInserter | undefined;

  constructor(
    private readonly ds: VectorDataset,
    private readonly backend: VectorBackend,
    private readonly w: VectorSettings,
    o: VectorRequestOptions,
  ) {
    this.queryBatch = w.queryBatch;
    this.batchSize = w.batchSize;
    this.cursor = new QueryCursor(ds.queryCount, ds.truth.scored, o.rank, o.ranks);
    // Live ids only when something takes them.
    this.live = (w.operationMix.delete ?? 0) > 0 || (w.operationMix.update ?? 0) > 0 ? new LiveIds(ds.count) : undefined;
    this.rng = createRng(deriveSeed(o.seed, 100 + o.rank));
    this.streaming = w.streaming ? this.streamer(w.streaming, o.outDir, o.rank) : undefined;
  }

  /** Every point scores every query afresh, in the same order, so points compare. */
  startPoint(): void {
    this.ds.truth.resetScoring();
    this.cursor.restart();
    this.streaming?.start();
  }

  /** Ends the streaming inserts, if any; called once, at teardown. */
  async stop(): Promise<void> {
    await this.streaming?.stop();
  }

  /** workload.streaming's inserter through the same backend, its checkpoints appended to rank-N.streaming.jsonl in `outDir`. */
  private streamer(settings: VectorStreaming, outDir: string | undefined, rank: number): StreamingInserter {
    const { backend } = this;
    return new StreamingInserter({
      settings,
      batchSize: this.w.batchSize,
      k: this.w.searchK,
      dataset: this.ds,
      backend: {
        insert: async (ids, vectors) => {
          await backend.insert(ids, vectors);
          this.added(ids);
        },
        search: (vector, k) => backend.searchVector(vector, k),
      },
      ...(outDir ? { checkpointFile: join(outDir, `rank-${rank}.streaming.jsonl`) } : {}),
    });
  }

  /** A per-point parameter this request path owns (queryBatch, batchSize): set, and true; false for the backend's own. */
  setParameter(name: string, value: number): boolean {
    if (name === 'queryBatch') this.queryBatch = value;
    else if (name === 'batchSize') this.batchSize = value;
    else return false;
    return true;
  }

  /** How recall is scored, for the client's setup line. */
  describeScoring(): string {
    const { ds } = this;
    return (
      `recall scored on ${ds.truth.scored.length} of ${ds.queryCount} queries` +
      `${ds.sampled ? ' (a seeded sample: the report gives its 95% Wilson interval)' : ''}, ground truth by ${ds.groundTruth} in ${ds.truthMs.toFixed(0)} ms`
    );
  }

  /** Ids written by someone else (streaming inserts): now live, so updates and deletes may take them. */
  added(ids: readonly number[]): void {
    for (const id of ids) this.live?.add(id);
  }

  /** One request, with what streaming measured since the last one added to its metrics. */
  async run(op: VectorOperation, measured: boolean): Promise<OperationResult> {
    const result = await this.request(op, measured);
    const streamed = this.streaming?.drain();
    return streamed && Object.keys(streamed).length > 0 ? { metrics: { ...result.metrics, ...streamed } } : result;
  }

  /** `measured`: false in the warmup, whose searches are not scored (their results are dropped anyway). */
  private async request(op: VectorOperation, measured: boolean): Promise<OperationResult> {
    const { ds, backend } = this;
    switch (op) {
      case 'search':
      case 'filteredSearch': {
        const filtered = op === 'filteredSearch';
        const queries = Array.from({ length: this.queryBatch }, () => this.cursor.next(measured));
        const labels = filtered ? queries.map((q) => ds.labels!.ofQuery(q)) : undefined;
        if (!measured) {
          await backend.search(queries, this.w.searchK, labels);
          return {};
        }
        const token = ds.truth.beginSearch();
        try {
          const answers = await backend.search(queries, this.w.searchK, labels);
          const recall: number[] = [];
          queries.forEach((q, j) => {
            const r = ds.truth.score(token, q, filtered, answers[j]);
            if (r !== undefined) recall.push(r);
          });
          return recall.length > 0 ? { metrics: { recall } satisfies MetricSample } : {};
        } finally {
          ds.truth.endSearch(token);
        }
      }
      case 'insert': {
        const { ids, vectors } = ds.pool.take(this.batchSize);
        const token = ds.truth.beginInsert(ids, vectors);
        try {
          await backend.insert(ids, vectors);
        } catch (e) {
          ds.truth.end(token, false);
          throw e;
        }
        ds.truth.end(token, true);
        this.added(ids);
        return {};
      }
      case 'delete': {
        const ids = this.take(this.batchSize);
        const token = ds.truth.beginDelete(ids);
        try {
          await backend.delete(ids);
        } catch (e) {
          ds.truth.end(token, false);
          this.added(ids);
          throw e;
        }
        ds.truth.end(token, true);
        return {};
      }
      case 'update': {
        const ids = this.take(this.batchSize);
        const { vectors } = ds.pool.take(ids.length);
        const token = ds.truth.beginInsert(ids, vectors);
        try {
          await backend.update(ids, vectors);
        } catch (e) {
          ds.truth.end(token, false);
          throw e;
        } finally {
          this.added(ids);
        }
        ds.truth.end(token, true);
        return {};
      }
    }
  }

  /** Up to n live ids with no write in flight, taken out until the write ends. */
  private take(n: number): number[] {
    const ids: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = this.live!.take(this.rng.next());
      if (id === undefined) break;
      ids.push(id);
    }
    if (ids.length === 0) throw new Error('no vector left to delete or update: every one is deleted or being written; lower the delete share of operationMix');
    return ids;
  }
}
