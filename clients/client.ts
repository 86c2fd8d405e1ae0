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

export interface BenchmarkClient {
  /** Every operation name this client can record, so histograms are preallocated. */
  readonly operations: readonly string[];
  /** What to draw for each request. */
  readonly mix: OperationMix;
  /** Opens connections, creates folders, prefills data. Throws if the service is not usable. */
  setup(): Promise<void>;
  /** Performs one request; throws on failure and the error message becomes the reason. */
  execute(op: Operation): Promise<OperationResult>;
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
