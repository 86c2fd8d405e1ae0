// The faiss client: an in-process Faiss index made from a factory string,
// searched and written through the search threads of pool.ts, every search
// scored against the live ground truth of clients/vector.
import { ConfigError, type BenchmarkClient, type ConfigProblem, type Operation, type OperationMix, type OperationResult, type PointSettings, type SetupFigure } from '../client.js';
import { loadDataset, vectorFileProblems, type VectorDataset } from '../vector/dataset.js';
import { SETUP_OPERATIONS } from '../vector/metrics.js';
import { VectorRequests } from '../vector/requests.js';
import { DEFAULT_COUNT, VECTOR_OPERATIONS, vectorProblems, type VectorOperation } from '../vector/schema.js';
import { addonPath, FAISS_METRIC, faissModule, familyOfDescriptor, FaissMissing, minTrainingVectors, type IndexFamily } from './native.js';
import { FaissPool } from './pool.js';
import { DEFAULT_TRAIN_SIZE, faissSweepParameters, type FaissWorkload } from './schema.js';

export interface FaissClientOptions {
  rank: number;
  ranks: number;
  /** The load's seed: picks which vector a delete or update takes. */
  seed: number;
  threads: number;
  /** The rank's output folder: streaming checkpoints go to rank-N.streaming.jsonl. */
  outDir?: string;
  /** Where the client says what it set up (the runner's stderr). */
  log?: (line: string) => void;
}

const WRITES_NEED_FLAT =
  'Faiss deletes only from a Flat index through faiss-node: HNSW has no remove_ids (calling it ends the process), and an IVF index, without add_with_ids, gives the next insert a label still in use; set index: Flat, or drop update and delete from operationMix';

/** Every problem with the settings, found without Faiss. */
export function faissProblems(w: FaissWorkload): ConfigProblem[] {
  const problems = vectorProblems(w, VECTOR_OPERATIONS);
  const family = familyOfDescriptor(w.index);
  const writes = (['update', 'delete'] as const).filter((op) => (w.operationMix[op] ?? 0) > 0);
  if (writes.length > 0 && family !== 'flat') problems.push({ path: 'workload.operationMix', message: `${writes.join(' and ')} with index "${w.index}": ${WRITES_NEED_FLAT}` });
  for (const [name, want] of [['efSearch', 'hnsw'], ['efConstruction', 'hnsw'], ['nprobe', 'ivf']] as const) {
    if (w[name] !== undefined && family !== want) {
      problems.push({ path: `workload.${name}`, message: `${name} applies to an index string that starts with ${want === 'hnsw' ? 'HNSW (e.g. HNSW32)' : 'IVF (e.g. IVF256,Flat)'}; workload.index is "${w.index}"` });
    }
  }
  const count = w.data.count ?? (w.data.file ? undefined : DEFAULT_COUNT);
  if (count !== undefined) {
    const train = Math.min(count, w.trainSize ?? DEFAULT_TRAIN_SIZE);
    const need = minTrainingVectors(w.index);
    if (train < need) {
      problems.push({ path: 'workload.index', message: `"${w.index}" trains k-means with ${need} centroids, so it needs at least ${need} training vectors; it would get ${train} (data.count, trainSize)` });
    }
  }
  return problems;
}

export class FaissClient implements BenchmarkClient {
  readonly operations: string[];
  readonly mix: OperationMix;
  private ds!: VectorDataset;
  private pool: FaissPool | undefined;
  private family: IndexFamily = 'other';
  private nlist: number | undefined;
  private requests!: VectorRequests;
  private figures: SetupFigure[] = [];

  constructor(
    private readonly config: FaissWorkload,
    private readonly o: FaissClientOptions,
  ) {
    // The files' headers are read now: a truncated file is a config problem, found before anything opens.
    const problems = [...faissProblems(config), ...vectorFileProblems(config)];
    if (problems.length > 0) throw new ConfigError(problems);
    const ops = VECTOR_OPERATIONS.filter((op) => (config.operationMix[op] ?? 0) > 0);
    this.operations = [...ops, ...SETUP_OPERATIONS];
    this.mix = { operations: Object.fromEntries(ops.map((op) => [op, config.operationMix[op]])) };
  }

  /**
   * Asks Faiss whether it can make workload.index, in this thread, before any
   * search thread exists. Without faiss-node it says nothing: setup then fails
   * saying how to build it.
   */
  checkIndex(): void {
    let path: string;
    try {
      path = addonPath();
    } catch {
      return;
    }
    try {
      faissModule(path).Index.fromFactory(this.config.dimension, this.config.index, this.metric);
    } catch (e) {
      if (e instanceof FaissMissing) return;
      throw new ConfigError([{ path: 'workload.index', message: factoryMessage(this.config.index, e) }]);
    }
  }

  private get metric(): number {
    return this.config.metric === 'l2' ? FAISS_METRIC.l2 : FAISS_METRIC.innerProduct;
  }

  async setup(): Promise<void> {
    const addon = addonPath();
    this.ds = loadDataset(this.config);
    const { ds, config } = this;
    const trainCount = Math.min(ds.count, config.trainSize ?? DEFAULT_TRAIN_SIZE);
    const need = minTrainingVectors(config.index);
    if (trainCount < need) throw new ConfigError([{ path: 'workload.index', message: `"${config.index}" needs at least ${need} training vectors; ${config.data.file} gives ${trainCount}` }]);

    this.pool = new FaissPool(this.o.threads, {
      addon,
      dimension: ds.dimension,
      metric: this.metric,
      base: ds.base,
      count: ds.count,
      queries: ds.queries,
      ...(config.filter ? { labels: { count: config.filter.labels, seed: config.filter.seed } } : {}),
    });
    let built;
    try {
      built = await this.pool.build(config.index, trainCount, config.efConstruction);
    } catch (e) {
      if (/index string|could not parse|unsupported/i.test((e as Error).message)) throw new ConfigError([{ path: 'workload.index', message: factoryMessage(config.index, e) }]);
      throw e;
    }
    this.family = built.family;
    this.nlist = built.nlist;
    if (config.nprobe !== undefined) await this.setIndexParameter('nprobe', config.nprobe, 'workload.nprobe');
    if (config.efSearch !== undefined) await this.setIndexParameter('efSearch', config.efSearch, 'workload.efSearch');

    const pool = this.pool;
    this.requests = new VectorRequests(
      ds,
      {
        // Faiss answers k labels per query in one array.
        search: async (queries, k, labels) => {
          const ids = await pool.search({ queries: [...queries] }, k, labels ? [...labels] : undefined);
          return queries.map((_, j) => ids.subarray(j * k, (j + 1) * k));
        },
        insert: (ids, vectors) => pool.add([...ids], vectors),
        // Faiss removes and adds; the thread keeps the ids.
        update: (ids, vectors) => pool.update([...ids], vectors),
        delete: (ids) => pool.remove([...ids]),
        searchVector: (vector, k) => pool.search({ vectors: vector }, k),
      },
      config,
      { seed: this.o.seed, rank: this.o.rank, ranks: this.o.ranks, outDir: this.o.outDir },
    );
    // Faiss's load is getting the vectors into memory; its build is train + add. The copies for other threads are aifb's, not Faiss's.
    this.figures = [
      { operation: 'load', metrics: { loadTime: ds.loadMs } },
      { operation: 'build', metrics: { buildTime: built.trainMs + built.addMs } },
    ];
    this.o.log?.(
      `faiss ${config.index} (${this.family}${this.nlist ? `, nlist ${this.nlist}` : ''}): ${ds.count} vectors of ${ds.dimension}, metric ${config.metric}, ` +
        `loaded in ${ds.loadMs.toFixed(0)} ms, trained in ${built.trainMs.toFixed(0)} ms on ${trainCount}, added in ${built.addMs.toFixed(0)} ms, ` +
        `copied to ${this.pool.size} thread(s) in ${built.replicateMs.toFixed(0)} ms; ${this.requests.describeScoring()}`,
    );
  }

  setupFigures(): readonly SetupFigure[] {
    return this.figures;
  }

  async beforePoint(point: PointSettings): Promise<void> {
    for (const [name, value] of Object.entries(point.parameters)) {
      if (this.requests.setParameter(name, value)) continue;
      if (name === 'efSearch' || name === 'nprobe') await this.setIndexParameter(name, value, `load.sweep.parameter`);
      else throw new ConfigError([{ path: 'load.sweep.parameter.name', message: `the faiss workload cannot set ${name} per point; with index "${this.config.index}" it can set ${faissSweepParameters(this.config).join(', ')}` }]);
    }
    // Every point scores every query afresh, in the same order, so points compare.
    this.requests.startPoint();
  }

  async execute(op: Operation): Promise<OperationResult> {
    return this.requests.run(op.name as VectorOperation, op.measured !== false);
  }

  async teardown(): Promise<void> {
    await this.requests?.stop();
    await this.pool?.close();
    this.pool = undefined;
  }

  private async setIndexParameter(name: 'efSearch' | 'nprobe', value: number, path: string): Promise<void> {
    const want = name === 'efSearch' ? 'hnsw' : 'ivf';
    if (this.family !== want) throw new ConfigError([{ path, message: `${name} applies to ${want === 'hnsw' ? 'HNSW' : 'IVF'} indexes; "${this.config.index}" is ${this.family}` }]);
    if (name === 'nprobe' && this.nlist !== undefined && value > this.nlist) {
      throw new ConfigError([{ path, message: `nprobe ${value} is more lists than "${this.config.index}" has (nlist ${this.nlist}); at most ${this.nlist}` }]);
    }
    await this.pool!.set(name, value);
  }
}

function factoryMessage(descriptor: string, e: unknown): string {
  const why = (e instanceof Error ? e.message : String(e)).replace(/^Error in [^:]*:\d+: /, '');
  return `Faiss's index factory cannot make "${descriptor}" (${why}); use a factory string such as Flat, IVF256,Flat, IVF256,PQ16, HNSW32 or HNSW32,SQ8 (https://github.com/facebookresearch/faiss/wiki/The-index-factory)`;
}
