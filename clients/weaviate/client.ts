// The weaviate client: a class of the rank's own on a Weaviate server (vectors
// supplied by aifb, vectorizer none), preloaded by batch import, then searched
// with GraphQL nearVector and written by batch import and batch delete, every
// search scored against the live ground truth of clients/vector.
import { performance } from 'node:perf_hooks';
import weaviateModule, { ApiKey, type WeaviateClient, type WhereFilter } from 'weaviate-ts-client';
import { describeSecretRef, type Connection } from '../../api/connection.js';
import { ConfigError, type BenchmarkClient, type ConfigProblem, type Operation, type OperationMix, type OperationResult, type PointSettings, type SetupFigure } from '../client.js';
import { originOf } from '../http-common.js';
import { loadDataset, vectorFileProblems, type VectorDataset } from '../vector/dataset.js';
import { SETUP_OPERATIONS } from '../vector/metrics.js';
import { VectorRequests } from '../vector/requests.js';
import { VECTOR_OPERATIONS, vectorProblems, type VectorOperation } from '../vector/schema.js';
import { serverMessage, WeaviateAnswerError, weaviateFailure, type WeaviateTarget } from './failure.js';
import { WEAVIATE_DISTANCE, WEAVIATE_SWEEP_PARAMETERS, type WeaviateWorkload } from './schema.js';

export interface WeaviateClientOptions {
  rank: number;
  ranks: number;
  /** The load's seed: picks which vector a delete or update takes. */
  seed: number;
  service?: Connection;
  /** The API key (the service's credentials.token, read where the runner runs); sent as a Bearer token. */
  token?: string;
  /** The rank's output folder: streaming checkpoints go to rank-N.streaming.jsonl. */
  outDir?: string;
  /** Where the client says what it set up (the runner's stderr). */
  log?: (line: string) => void;
}

// The package's types describe its CommonJS build (the app under `default`);
// Node's import loads its ES build, whose default export is the app itself.
const weaviate = ((weaviateModule as { default?: unknown }).default ?? weaviateModule) as typeof weaviateModule.default;

/** A host that never answers (a firewall drops it) fails the readiness check after this. */
const READY_TIMEOUT_MS = 10_000;
/** Objects per batch import while preloading, and batches in flight: Weaviate's advice is 100 to 1000 per batch. */
const PRELOAD_BATCH = 500;
const PRELOAD_CONCURRENCY = 4;

/**
 * aifb's vector id as a UUID, and back: the last 12 hex digits hold the id, so a
 * search's answer maps back without a property, and a rerun writes the same objects.
 */
const UUID_PREFIX = 'a1fb0000-0000-8000-8000-';
export const uuidOf = (id: number): string => `${UUID_PREFIX}${id.toString(16).padStart(12, '0')}`;
export const idOfUuid = (uuid: string): number => (uuid.startsWith(UUID_PREFIX) ? parseInt(uuid.slice(UUID_PREFIX.length), 16) : -1);

/** Every problem with the settings and the service, found without a connection. */
export function weaviateProblems(w: WeaviateWorkload, service: Connection | undefined): ConfigProblem[] {
  const problems: ConfigProblem[] = vectorProblems(w, VECTOR_OPERATIONS);
  if (!service) problems.push({ path: 'serviceRef', message: 'a weaviate workload needs a service: set spec.serviceRef (or an inline spec.service) to a Service of type weaviate' });
  else if (service.scheme !== 'http' && service.scheme !== 'https') {
    problems.push({ path: 'service.scheme', message: `Weaviate speaks http or https, not ${service.scheme}; set the Service's endpoint scheme to http` });
  }
  return problems;
}

export class WeaviateBenchClient implements BenchmarkClient {
  readonly operations: string[];
  readonly mix: OperationMix;
  /** The class this rank writes to: className, or className_r<rank> with several ranks. */
  readonly className: string;
  readonly origin: string;
  private readonly target: WeaviateTarget;
  private client: WeaviateClient | undefined;
  private ds!: VectorDataset;
  private requests!: VectorRequests;
  private figures: SetupFigure[] = [];
  /** Made by this run's setup: deleted at teardown unless keep. A class found there is left as it was found. */
  private created = false;

  constructor(
    private readonly config: WeaviateWorkload,
    private readonly o: WeaviateClientOptions,
  ) {
    const problems = [...weaviateProblems(config, o.service), ...vectorFileProblems(config)];
    if (problems.length > 0) throw new ConfigError(problems);
    const service = o.service!;
    const ops = VECTOR_OPERATIONS.filter((op) => (config.operationMix[op] ?? 0) > 0);
    this.operations = [...ops, ...SETUP_OPERATIONS];
    this.mix = { operations: Object.fromEntries(ops.map((op) => [op, config.operationMix[op]])) };
    this.className = o.ranks > 1 ? `${config.className}_r${o.rank}` : config.className;
    this.origin = originOf(service);
    const ref = service.credentials?.token;
    this.target = { origin: this.origin, className: this.className, dimension: config.dimension, tokenFrom: ref ? describeSecretRef(ref) : undefined };
  }

  async setup(): Promise<void> {
    const { config } = this;
    // The data and its truth first: computing them can take seconds, long enough for the server to drop an idle connection opened before.
    this.ds = loadDataset(config);
    const ds = this.ds;
    await this.checkReady();
    const url = new URL(this.origin);
    this.client = weaviate.client({ scheme: url.protocol.replace(':', ''), host: url.host, ...(this.o.token ? { apiKey: new ApiKey(this.o.token) } : {}) });
    // /v1/meta needs the key where /.well-known does not: a refused key shows here, before any data moves.
    await this.setupStep('meta', () => this.client!.misc.metaGetter().do());

    const existing = await this.setupStep('get class', () => this.classSpec());
    const distance = WEAVIATE_DISTANCE[config.metric];
    if (existing) {
      const theirs = (existing.vectorIndexConfig as { distance?: string } | undefined)?.distance;
      if (theirs !== undefined && theirs !== distance) {
        throw new ConfigError([{ path: 'workload.metric', message: `class "${this.className}" at ${this.origin} measures ${theirs}; metric ${config.metric} is ${distance} in Weaviate: set metric to match, or set workload.className to another class` }]);
      }
      if (config.ef !== undefined) await this.setupStep('set ef', () => this.setEf(config.ef!));
    } else {
      const vectorIndexConfig = {
        distance,
        ...(config.ef !== undefined ? { ef: config.ef } : {}),
        ...(config.efConstruction !== undefined ? { efConstruction: config.efConstruction } : {}),
        ...(config.maxConnections !== undefined ? { maxConnections: config.maxConnections } : {}),
      };
      const properties = config.filter ? [{ name: 'label', dataType: ['int'] }] : [];
      await this.setupStep('create class', () =>
        this.client!.schema.classCreator().withClass({ class: this.className, vectorizer: 'none', vectorIndexType: 'hnsw', vectorIndexConfig, properties }).do(),
      );
      this.created = true;
    }

    // Weaviate indexes as it imports: the load time includes building the HNSW graph, so there is no build figure apart.
    const t0 = performance.now();
    let next = 0;
    const importer = async () => {
      while (next < ds.count) {
        const from = next;
        next = Math.min(ds.count, next + PRELOAD_BATCH);
        const ids = Array.from({ length: next - from }, (_, i) => from + i);
        await this.setupStep('batch import', () => this.importBatch(ids, ds.base.subarray(from * ds.dimension, next * ds.dimension)));
      }
    };
    await Promise.all(Array.from({ length: PRELOAD_CONCURRENCY }, importer));
    const loadMs = performance.now() - t0;
    this.figures = [{ operation: 'load', metrics: { loadTime: loadMs } }];

    const d = ds.dimension;
    this.requests = new VectorRequests(
      ds,
      {
        // GraphQL nearVector takes one vector: a batch of queries is that many searches at once, counted as one request.
        search: (queries, k, labels) => Promise.all(queries.map((q, j) => this.searchOne(ds.queries.subarray(q * d, (q + 1) * d), k, labels?.[j]))),
        insert: (ids, vectors) => this.importBatch(ids, vectors),
        // A batch import of existing ids replaces those objects, in one request.
        update: (ids, vectors) => this.importBatch(ids, vectors),
        delete: (ids) => this.deleteBatch(ids),
        searchVector: (vector, k) => this.searchOne(vector, k),
      },
      config,
      { seed: this.o.seed, rank: this.o.rank, ranks: this.o.ranks, outDir: this.o.outDir },
    );
    this.o.log?.(
      `weaviate class ${this.className} at ${this.origin} (${existing ? 'found there: it is kept, and objects other than the base count as misses' : 'created'}, ${distance}` +
        `${config.ef !== undefined ? `, ef ${config.ef}` : ''}): ${ds.count} vectors of ${ds.dimension} imported in ${loadMs.toFixed(0)} ms; ` +
        `${this.requests.describeScoring()}`,
    );
  }

  setupFigures(): readonly SetupFigure[] {
    return this.figures;
  }

  async beforePoint(point: PointSettings): Promise<void> {
    for (const [name, value] of Object.entries(point.parameters)) {
      if (this.requests.setParameter(name, value)) continue;
      if (name === 'ef') await this.setupStep('set ef', () => this.setEf(value));
      else throw new ConfigError([{ path: 'load.sweep.parameter.name', message: `the weaviate workload cannot set ${name} per point; it can set ${WEAVIATE_SWEEP_PARAMETERS.join(', ')}` }]);
    }
    // Every point scores every query afresh, in the same order, so points compare.
    this.requests.startPoint();
  }

  async execute(op: Operation): Promise<OperationResult> {
    try {
      return await this.requests.run(op.name as VectorOperation, op.measured !== false);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new Error(weaviateFailure(e, ACTIONS[op.name as VectorOperation] ?? op.name, this.target).message);
    }
  }

  async teardown(): Promise<void> {
    await this.requests?.stop();
    if (this.client && this.created && !this.config.keep) {
      await this.setupStep('delete class', () => this.client!.schema.classDeleter().withClassName(this.className).do());
      this.created = false;
    }
    this.client = undefined;
  }

  /** Nearest `k` ids to one vector, with a label to filter on or none. */
  private async searchOne(vector: Float32Array, k: number, label?: number): Promise<number[]> {
    let get = this.client!.graphql.get().withClassName(this.className).withNearVector({ vector: Array.from(vector) }).withLimit(k).withFields('_additional { id }');
    if (label !== undefined) get = get.withWhere({ path: ['label'], operator: 'Equal', valueInt: label });
    const answer = (await get.do()) as { data?: { Get?: Record<string, unknown> }; errors?: Array<{ message?: string }> };
    if (answer.errors?.length) throw new WeaviateAnswerError(answer.errors[0].message ?? 'GraphQL error');
    const hits = answer.data?.Get?.[this.className];
    if (!Array.isArray(hits)) throw new WeaviateAnswerError(`the GraphQL answer has no Get.${this.className}`);
    return hits.map((h: { _additional?: { id?: string } }) => idOfUuid(h._additional?.id ?? ''));
  }

  /** One batch import; Weaviate answers 200 with an error per object it refused, so each is checked. */
  private async importBatch(ids: readonly number[], vectors: Float32Array): Promise<void> {
    const d = this.ds.dimension;
    const labels = this.ds.labels;
    const objects = ids.map((id, i) => ({
      class: this.className,
      id: uuidOf(id),
      vector: Array.from(vectors.subarray(i * d, (i + 1) * d)),
      properties: labels ? { label: labels.of(id) } : {},
    }));
    const results = await this.client!.batch.objectsBatcher().withObjects(...objects).do();
    const refused = results.filter((r) => (r.result?.errors?.error?.length ?? 0) > 0);
    if (refused.length > 0) {
      const first = refused[0].result!.errors!.error![0].message ?? 'no message';
      throw new WeaviateAnswerError(refused.length === ids.length ? first : `${refused.length} of ${ids.length} objects refused: ${first}`);
    }
  }

  /** One batch delete by id. */
  private async deleteBatch(ids: readonly number[]): Promise<void> {
    const byId = (id: number): WhereFilter => ({ path: ['id'], operator: 'Equal', valueText: uuidOf(id) });
    const where: WhereFilter = ids.length === 1 ? byId(ids[0]) : { operator: 'Or', operands: ids.map(byId) };
    const answer = await this.client!.batch.objectsBatchDeleter().withClassName(this.className).withWhere(where).do();
    const done = answer.results?.successful ?? 0;
    if (done !== ids.length) throw new WeaviateAnswerError(`batch delete removed ${done} of ${ids.length} objects (${answer.results?.failed ?? 0} failed); something else wrote to class ${this.className}`);
  }



  /** /v1/.well-known/ready, by hand: the client's own check answers false for every failure, without saying which. */
  private async checkReady(): Promise<void> {
    let status: number;
    try {
      status = (await fetch(`${this.origin}/v1/.well-known/ready`, { signal: AbortSignal.timeout(READY_TIMEOUT_MS) })).status;
    } catch (e) {
      throw new Error(weaviateFailure(e, 'the readiness check', this.target).message);
    }
    if (status !== 200) throw new Error(weaviateFailure(new WeaviateAnswerError('not ready', status), 'the readiness check', this.target).message);
  }

  /** The class as the server holds it, or undefined when there is none. */
  private async classSpec(): Promise<Record<string, unknown> | undefined> {
    try {
      return (await this.client!.schema.classGetter().withClassName(this.className).do()) as Record<string, unknown>;
    } catch (e) {
      if (/^usage error \(404\)/.test((e as Error).message)) return undefined;
      throw e;
    }
  }

  /** HNSW ef is mutable in Weaviate: the class's definition, read and written back with it changed (PUT /v1/schema/{class}). */
  private async setEf(ef: number): Promise<void> {
    const spec = (await this.classSpec()) ?? {};
    const body = { ...spec, vectorIndexConfig: { ...(spec.vectorIndexConfig as object), ef } };
    const res = await fetch(`${this.origin}/v1/schema/${this.className}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (res.status >= 400) throw new WeaviateAnswerError(serverMessage(await res.text()), res.status);
  }

  /** A setup call whose failure names what to change: a ConfigError when retrying cannot help. */
  private async setupStep<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      const f = weaviateFailure(e, action, this.target);
      throw f.path ? new ConfigError([{ path: f.path, message: f.message }]) : new Error(f.message);
    }
  }
}

const ACTIONS: Record<VectorOperation, string> = { insert: 'batch import', search: 'search', filteredSearch: 'filtered search', update: 'batch import (update)', delete: 'batch delete' };
