// Streaming: inserts on a fixed schedule while the load's own requests (the
// searches) run, measuring how soon an inserted vector can be found, and recall
// at checkpoints as the collection grows.
//
// Insert-to-searchable, precisely: insert i of the stream is scheduled at
// start + i / insertRate (late ones are still measured from that time, so a slow
// backend cannot hide behind its own queue). Once the backend acknowledges the
// insert, the client searches for the batch's last vector with that vector as
// the query (top searchK, no filter), every probeInterval, until its id is in
// the answer: insertToSearchable is from the scheduled time to the end of that
// search. Not found within probeTimeout: counted in notSearchable instead. A
// failed insert is neither (the backend refused it).
//
// The engine records metrics per request, so what the stream measures is handed
// over with the next request's result (`drain`) and lands in the run's metrics
// beside everything else; values measured during warmup go out with warmup
// requests and are dropped like them. Probes and checkpoint searches are extra
// load on the backend that no request counts.
import { appendFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { MetricSample } from '../../api/metrics.js';
import { wilsonInterval } from '../../api/metrics.js';
import type { VectorDataset } from './dataset.js';
import type { VectorStreaming } from './schema.js';

export interface StreamingBackend {
  insert(ids: number[], vectors: Float32Array): Promise<void>;
  /** Nearest `k` ids to one vector, no filter. */
  search(vector: Float32Array, k: number): Promise<ArrayLike<number>>;
}

/** One checkpoint: a line of `rank-N.streaming.jsonl`. */
export interface Checkpoint {
  inserted: number;
  live: number;
  atMs: number;
  recall: number;
  queries: number;
  interval: { low: number; high: number };
}

export interface StreamingOptions {
  settings: VectorStreaming;
  batchSize: number;
  k: number;
  dataset: VectorDataset;
  backend: StreamingBackend;
  /** Where checkpoints are appended, one JSON object per line. */
  checkpointFile?: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Inserts beyond this many in flight are skipped (and counted): the schedule never waits for the backend. */
const MAX_IN_FLIGHT = 256;

export class StreamingInserter {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private pendingLatency: number[] = [];
  private pendingNotFound = 0;
  private pendingCheckpoints: number[] = [];
  private checkpointRunning: Promise<void> | undefined;
  /** Streamed inserts acknowledged, skipped at the in-flight cap, and probes sent. */
  readonly counts = { acknowledged: 0, failed: 0, skipped: 0, probes: 0 };
  readonly checkpoints: Checkpoint[] = [];
  private started = 0;

  constructor(private readonly o: StreamingOptions) {
    this.now = o.now ?? (() => performance.now());
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.started = this.now();
    this.loop = this.schedule();
  }

  /** Stops scheduling and waits for inserts, probes and a checkpoint under way. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.all([...this.inFlight]);
    await this.checkpointRunning;
  }

  /** What was measured since the last call, for the next request's result; empty when nothing was. */
  drain(): MetricSample {
    const out: MetricSample = {};
    if (this.pendingLatency.length > 0) out.insertToSearchable = this.pendingLatency;
    if (this.pendingNotFound > 0) out.notSearchable = this.pendingNotFound;
    if (this.pendingCheckpoints.length > 0) out.checkpointRecall = this.pendingCheckpoints;
    this.pendingLatency = [];
    this.pendingNotFound = 0;
    this.pendingCheckpoints = [];
    return out;
  }

  private async schedule(): Promise<void> {
    const interval = 1000 / this.o.settings.insertRate;
    for (let i = 0; this.running; i++) {
      const at = this.started + i * interval;
      const wait = at - this.now();
      if (wait > 0) await this.sleep(wait);
      if (!this.running) break;
      if (this.inFlight.size >= MAX_IN_FLIGHT) {
        this.counts.skipped++;
        continue;
      }
      const p = this.insertOne(at).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  private async insertOne(scheduled: number): Promise<void> {
    const { dataset, backend, k } = this.o;
    let batch: { ids: number[]; vectors: Float32Array };
    try {
      batch = dataset.pool.take(this.o.batchSize);
    } catch {
      // The file has no vectors left: the stream ends; the requests say why when they try to insert.
      this.running = false;
      return;
    }
    const token = dataset.truth.beginInsert(batch.ids, batch.vectors);
    try {
      await backend.insert(batch.ids, batch.vectors);
    } catch {
      dataset.truth.end(token, false);
      this.counts.failed++;
      return;
    }
    dataset.truth.end(token, true);
    this.counts.acknowledged++;
    if (this.counts.acknowledged % this.o.settings.checkpointEvery === 0 && !this.checkpointRunning) {
      this.checkpointRunning = this.checkpoint().finally(() => (this.checkpointRunning = undefined));
    }
    const d = dataset.dimension;
    const last = batch.ids.length - 1;
    const probe = batch.vectors.subarray(last * d, (last + 1) * d);
    const id = batch.ids[last];
    const deadline = scheduled + this.o.settings.probeTimeout;
    for (;;) {
      this.counts.probes++;
      const found = await backend.search(probe, k).then(
        (ids) => Array.prototype.includes.call(ids, id) as boolean,
        () => false,
      );
      const t = this.now();
      if (found) {
        this.pendingLatency.push(t - scheduled);
        return;
      }
      if (t >= deadline) {
        this.pendingNotFound++;
        return;
      }
      await this.sleep(Math.min(this.o.settings.probeInterval, deadline - t));
    }
  }

  /** Every scored query searched once, recall averaged; the truth includes every insert acknowledged so far. */
  private async checkpoint(): Promise<void> {
    const { dataset, backend, k } = this.o;
    const d = dataset.dimension;
    const inserted = this.counts.acknowledged;
    let sum = 0;
    let n = 0;
    for (const q of dataset.truth.scored) {
      const token = dataset.truth.beginSearch();
      try {
        const ids = await backend.search(dataset.queries.subarray(q * d, (q + 1) * d), k);
        const r = dataset.truth.score(token, q, false, ids, false);
        if (r !== undefined) {
          sum += r;
          n++;
        }
      } catch {
        // A failed search scores nothing; the checkpoint says how many were scored.
      } finally {
        dataset.truth.endSearch(token);
      }
    }
    if (n === 0) return;
    const recall = sum / n;
    const c: Checkpoint = { inserted, live: dataset.truth.liveCount, atMs: Math.round(this.now() - this.started), recall, queries: n, interval: wilsonInterval(recall, n) };
    this.checkpoints.push(c);
    this.pendingCheckpoints.push(recall);
    if (this.o.checkpointFile) await appendFile(this.o.checkpointFile, `${JSON.stringify(c)}\n`).catch(() => {});
  }
}
