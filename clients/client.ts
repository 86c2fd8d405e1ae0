// The one interface the load engine drives: every workload type's client
// implements it (clients/<type>/client.ts) and registers in clients/registry.ts.
import type { MetricSample } from '../api/metrics.js';

/** One request the engine asks a client to perform. */
export interface Operation {
  /** A name from the client's `mix.operations`. */
  name: string;
  /** Drawn from `mix.sizes`, in bytes, when the client has a size distribution. */
  size?: number;
  /** Per-rank sequence number of the arrival (0, 1, 2, ...). */
  seq: number;
  /** When the engine meant to send it, on the engine's clock (performance.now() in a runner). */
  scheduled?: number;
  /** False during the warmup, whose results are dropped: a client that scores (recall) saves its scored queries for the measured window. */
  measured?: boolean;
}

export interface OperationResult {
  /**
   * What this request measured for the workload's declared metrics (bytes,
   * tokens, time to first token...). Timings declared `sinceSend` count from
   * when execute() was called; the engine moves them to the intended send time.
   */
  metrics?: MetricSample;
  /**
   * Record this request under another operation name, when the client had to
   * do something else (a read with no file to read fell back to a write).
   */
  as?: string;
}

export interface OperationMix {
  /** Operation name -> weight (normalised by the engine). */
  operations: Record<string, number>;
  /** Request sizes in bytes with weights; drawn for every operation. */
  sizes?: ReadonlyArray<{ bytes: number; weight: number }>;
}

/** What the runner sets before each point of the load (a plain run is one point). */
export interface PointSettings {
  /** A parameter sweep's value for this point (load.sweep.parameter), by name; empty otherwise. */
  parameters: Record<string, number>;
}

/** A figure the client measured once in setup (load time, index build time), recorded under its own operation name. */
export interface SetupFigure {
  /** One of the client's `operations` that the mix never draws (`load`, `build`). */
  operation: string;
  /** Declared metrics, like a request's; no latency and no request are counted. */
  metrics: MetricSample;
}

export interface BenchmarkClient {
  /** Every operation name this client can record, so histograms are preallocated. */
  readonly operations: readonly string[];
  /** What to draw for each request. */
  readonly mix: OperationMix;
  /** Opens connections, creates folders, prefills data. Throws if the service is not usable. */
  setup(): Promise<void>;
  /** Performs one request; throws on failure and the error message becomes the reason. */
  execute(op: Operation): Promise<OperationResult>;
  /**
   * Before each point (every point of a sweep, or the one of a plain run): sets
   * a swept parameter and starts afresh what is counted per point. Throws to
   * fail the run.
   */
  beforePoint?(point: PointSettings): Promise<void>;
  /** What setup measured once; the engine records it at the start of every point, so every report carries it. */
  setupFigures?(): readonly SetupFigure[];
  /** Releases what setup made; called once, also after a failed or interrupted run. */
  teardown(): Promise<void>;
}

/** A problem in a client's configuration, found before anything is opened. */
export interface ConfigProblem {
  /** Dotted path from the benchmark spec, e.g. `workload.fileSizes["4XB"]`. */
  path: string;
  message: string;
}

/** Thrown by a workload's create() when the configuration cannot work; lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; '));
    this.name = 'ConfigError';
  }
}
