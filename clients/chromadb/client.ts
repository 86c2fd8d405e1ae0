// The chromadb client: a collection of aifb's own vectors (no embedding
// function) on a ChromaDB server, preloaded in batches, then inserts, searches,
// filtered searches, updates and deletes, every search scored against the live
// ground truth of clients/vector. Each rank has its own collection, so its
// truth is exact whatever the other ranks write.
import { performance } from 'node:perf_hooks';
import { ChromaClient, type Collection, type Metadata } from 'chromadb';
import { describeSecretRef, type Connection } from '../../api/connection.js';
import { ConfigError, type BenchmarkClient, type Operation, type OperationMix, type OperationResult, type PointSettings, type SetupFigure } from '../client.js';
import { originOf } from '../http-common.js';
import { loadDataset, vectorFileProblems, type VectorDataset } from '../vector/dataset.js';
import { SETUP_OPERATIONS } from '../vector/metrics.js';
import { VectorRequests } from '../vector/requests.js';
import { VECTOR_OPERATIONS, vectorProblems, type VectorOperation } from '../vector/schema.js';
import { chromaReason, dimensionMessage, notChroma, unreachable, type Target } from './failure.js';
import { chromadbSweepParameters, SPACE, type ChromadbWorkload } from './schema.js';

export interface ChromadbClientOptions {
  runId: string;
  rank: number;
  ranks: number;
  /** The load's seed: picks which vector a delete or update takes. */
  seed: number;
  service?: Connection;
  /** The service's token (credentials.token) or password, read where the runner runs; sent as a bearer token. */
  token?: string;
  /** Requests this rank can have in flight: the preload sends as many batches at once, at most 8. */
  inflight: number;
  /** The rank's output folder: streaming checkpoints go to rank-N.streaming.jsonl. */
  outDir?: string;
  log?: (line: string) => void;
}

/** How long the heartbeat may take before the server counts as unreachable. */
const HEARTBEAT_TIMEOUT_MS = 10_000;

/** The collection a rank uses: the workload's, or one named after the run; `-r<rank>` when several ranks share the server. */
export function collectionName(config: Pick<ChromadbWorkload, 'collection'>, runId: string, rank: number, ranks: number): string {
  // A run id may end in "." or hold ".."; ChromaDB's names may not.
  const base = config.collection ?? `aifb-${runId}`.replace(/\.{2,}/g, '.').replace(/[^a-zA-Z0-9]+$/, '');
  return ranks > 1 ? `${base}-r${rank}` : base;
}

const rows = (vectors: Float32Array, d: number): number[][] => Array.from({ length: vectors.length / d }, (_, i) => Array.from(vectors.subarray(i * d, (i + 1) * d)));

export class ChromadbClient implements BenchmarkClient {
  readonly operations: string[];
  readonly mix: OperationMix;
  readonly collectionName: string;
  private readonly target: Target;
  private readonly service: Connection;
  private chroma: ChromaClient | undefined;
  private collection: Collection | undefined;
  /** True when this run created the collection: only then is it deleted at the end. */
  private created = false;
  private ds!: VectorDataset;
  private requests!: VectorRequests;
  private figures: SetupFigure[] = [];

  constructor(
    private readonly config: ChromadbWorkload,
    private readonly o: ChromadbClientOptions,
  ) {
    const problems = [...vectorProblems(config, VECTOR_OPERATIONS), ...vectorFileProblems(config)];
    if (!o.service) problems.push({ path: 'serviceRef', message: 'a chromadb workload needs a service: set spec.serviceRef (or an inline spec.service) to a Service of type chromadb' });
    if (problems.length > 0) throw new ConfigError(problems);
    this.service = o.service!;
    const ops = VECTOR_OPERATIONS.filter((op) => (config.operationMix[op] ?? 0) > 0);
    this.operations = [...ops, ...SETUP_OPERATIONS];
    this.mix = { operations: Object.fromEntries(ops.map((op) => [op, config.operationMix[op]])) };
    this.collectionName = collectionName(config, o.runId, o.rank, o.ranks);
    const ref = this.service.credentials?.token ?? this.service.credentials?.password;
    this.target = {
      origin: originOf(this.service),
      collection: this.collectionName,
      dimension: config.dimension,
      credentialFrom: ref ? describeSecretRef(ref) : undefined,
      timeoutMs: HEARTBEAT_TIMEOUT_MS,
    };
  }

  async setup(): Promise<void> {
    const { config } = this;
    await this.heartbeat();
    this.ds = loadDataset(config);
    const { ds } = this;
    this.chroma = new ChromaClient({
      host: this.service.host,
      port: this.service.port,
      ssl: this.service.scheme === 'https',
      ...(this.o.token ? { headers: { Authorization: `Bearer ${this.o.token}` } } : {}),
    });
    this.collection = await this.openCollection();

    // Load: the base vectors in batches, a few requests at once, until the server acknowledged them all.
    const maxBatch = await this.step('getMaxBatchSize', () => this.chroma!.getMaxBatchSize());
    const batch = Math.max(1, Math.min(config.loadBatch, maxBatch));
    const t0 = performance.now();
    let next = 0;
    const sender = async () => {
      for (let from = next; from < ds.count; from = next) {
        next = Math.min(ds.count, from + batch);
        const ids = Array.from({ length: next - from }, (_, i) => from + i);
        await this.step('add (preload)', () => this.add(ids, ds.base.subarray(from * ds.dimension, next * ds.dimension)));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(8, this.o.inflight)) }, sender));
    const loadMs = performance.now() - t0;
    // ChromaDB builds its HNSW index as vectors arrive (local server: in the write path), so there is no build step to time apart.
    this.figures = [{ operation: 'load', metrics: { loadTime: loadMs } }];

    const d = ds.dimension;
    this.requests = new VectorRequests(
      ds,
      {
        search: (queries, k, labels) => this.search(queries, k, labels),
        insert: (ids, vectors) => this.add(ids, vectors),
        update: async (ids, vectors) => {
          await this.collection!.update({ ids: ids.map(String), embeddings: rows(vectors, d) });
        },
        delete: async (ids) => {
          await this.collection!.delete({ ids: ids.map(String) });
        },
        searchVector: async (vector, k) => (await this.query([vector], k))[0],
      },
      config,
      { seed: this.o.seed, rank: this.o.rank, ranks: this.o.ranks, outDir: this.o.outDir },
    );
    const hnsw = (this.collection.configuration as { hnsw?: { ef_search?: number; ef_construction?: number; max_neighbors?: number } } | undefined)?.hnsw;
    this.o.log?.(
      `chromadb collection "${this.collectionName}" at ${this.target.origin} (space ${SPACE[config.metric]}, ef_search ${hnsw?.ef_search ?? '?'}, ef_construction ${hnsw?.ef_construction ?? '?'}, M ${hnsw?.max_neighbors ?? '?'}): ` +
        `${ds.count} vectors of ${ds.dimension} added in ${loadMs.toFixed(0)} ms in batches of ${batch}; ${this.requests.describeScoring()}`,
    );
  }

  setupFigures(): readonly SetupFigure[] {
    return this.figures;
  }

  async beforePoint(point: PointSettings): Promise<void> {
    for (const [name, value] of Object.entries(point.parameters)) {
      if (this.requests.setParameter(name, value)) continue;
      if (name === 'efSearch') await this.step('modify (ef_search)', () => this.collection!.modify({ configuration: { hnsw: { ef_search: value } } }));
      else throw new ConfigError([{ path: 'load.sweep.parameter.name', message: `the chromadb workload cannot set ${name} per point; it can set ${chromadbSweepParameters().join(', ')}` }]);
    }
    // Every point scores every query afresh, in the same order, so points compare.
    this.requests.startPoint();
  }

  async execute(op: Operation): Promise<OperationResult> {
    try {
      return await this.requests.run(op.name as VectorOperation, op.measured !== false);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new Error(chromaReason(e, op.name, this.target));
    }
  }

  async teardown(): Promise<void> {
    await this.requests?.stop();
    if (this.created && !this.config.keep && this.chroma) {
      await this.step('deleteCollection', () => this.chroma!.deleteCollection({ name: this.collectionName }));
      this.created = false;
    }
    this.collection = undefined;
  }

  /** GET /api/v2/heartbeat ourselves: the chromadb client drops the socket error that says why a server cannot be reached. */
  private async heartbeat(): Promise<void> {
    let status: number;
    try {
      const res = await fetch(`${this.target.origin}/api/v2/heartbeat`, {
        signal: AbortSignal.timeout(HEARTBEAT_TIMEOUT_MS),
        ...(this.o.token ? { headers: { Authorization: `Bearer ${this.o.token}` } } : {}),
      });
      await res.arrayBuffer();
      status = res.status;
    } catch (e) {
      throw new Error(unreachable(e, this.target));
    }
    if (status < 200 || status >= 300) throw new Error(notChroma(status, this.target));
  }

  /**
   * The rank's collection: created with the workload's HNSW settings, or an
   * existing one when it is empty and of the workload's dimension (vectors
   * already in it would be neighbours the ground truth knows nothing of).
   */
  private async openCollection(): Promise<Collection> {
    const { config } = this;
    const chroma = this.chroma!;
    const hnsw = {
      space: SPACE[config.metric],
      ...(config.efSearch !== undefined ? { ef_search: config.efSearch } : {}),
      ...(config.efConstruction !== undefined ? { ef_construction: config.efConstruction } : {}),
      ...(config.M !== undefined ? { max_neighbors: config.M } : {}),
    };
    try {
      const made = await chroma.createCollection({ name: this.collectionName, embeddingFunction: null, configuration: { hnsw }, metadata: { createdBy: 'aifb', runId: this.o.runId } });
      this.created = true;
      return made;
    } catch (e) {
      if ((e as Error).name !== 'ChromaUniqueError') throw new Error(chromaReason(e, 'createCollection', this.target));
    }
    const found = await this.step('getCollection', () => chroma.getCollection({ name: this.collectionName }));
    const first = await this.step('get', () => found.get({ limit: 1, include: ['embeddings'] }));
    const has = first.embeddings[0]?.length;
    if (has !== undefined && has !== config.dimension) throw new ConfigError([{ path: 'workload.dimension', message: dimensionMessage(this.target, has) }]);
    const n = await this.step('count', () => found.count());
    if (n > 0) {
      throw new ConfigError([
        {
          path: 'workload.collection',
          message: `collection "${this.collectionName}" already holds ${n} vectors, which the ground truth knows nothing of; set workload.collection to another name (or leave it out: each run gets its own), or delete that collection`,
        },
      ]);
    }
    const space = (found.configuration as { hnsw?: { space?: string } } | undefined)?.hnsw?.space;
    if (space && space !== SPACE[config.metric]) {
      throw new ConfigError([{ path: 'workload.metric', message: `collection "${this.collectionName}" measures distance as ${space}; workload.metric is ${config.metric}: set it to ${space}, or workload.collection to another name` }]);
    }
    return found;
  }

  /** A setup or teardown step; its failure says what failed and what to change. */
  private async step<T>(action: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      const reason = chromaReason(e, action, this.target);
      // Vectors the collection refuses for their length: no retry can fix that.
      if (/holds vectors of dimension/.test(reason)) throw new ConfigError([{ path: 'workload.dimension', message: reason }]);
      throw new Error(reason);
    }
  }

  private add(ids: readonly number[], vectors: Float32Array): Promise<void> {
    const labels = this.ds.labels;
    return this.collection!.add({
      ids: ids.map(String),
      embeddings: rows(vectors, this.ds.dimension),
      ...(labels ? { metadatas: ids.map((id): Metadata => ({ label: labels.of(id) })) } : {}),
    });
  }

  /** The nearest k ids of each vector, with an optional label to filter on. */
  private async query(vectors: Float32Array[], k: number, label?: number): Promise<Int32Array[]> {
    const r = await this.collection!.query({
      queryEmbeddings: vectors.map((v) => Array.from(v)),
      nResults: k,
      include: [],
      ...(label !== undefined ? { where: { label } } : {}),
    });
    return r.ids.map((list) => Int32Array.from(list, Number));
  }

  /** The nearest k ids of each query; a `where` applies to every query of a request, so filtered ones go one request per label, together. */
  private async search(queries: readonly number[], k: number, labels: readonly number[] | undefined): Promise<Int32Array[]> {
    const { ds } = this;
    const d = ds.dimension;
    const vectorOf = (q: number) => ds.queries.subarray(q * d, (q + 1) * d);
    if (!labels) return this.query(queries.map(vectorOf), k);
    const byLabel = new Map<number, number[]>();
    queries.forEach((_, j) => byLabel.set(labels[j], [...(byLabel.get(labels[j]) ?? []), j]));
    const answers = new Array<Int32Array>(queries.length);
    await Promise.all(
      [...byLabel].map(async ([label, js]) => {
        const ids = await this.query(js.map((j) => vectorOf(queries[j])), k, label);
        js.forEach((j, i) => (answers[j] = ids[i]));
      }),
    );
    return answers;
  }
}
