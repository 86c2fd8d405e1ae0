// What a workload type is: one folder under clients/ that exports one of these.
// The registry lists them; the resource schema, the JSON Schema, `aifbctl
// validate`, the runner and the README's table of types are built from them.
import type { z } from 'zod';
import type { Connection } from '../api/connection.js';
import type { MetricDecl } from '../api/metrics.js';
import type { Load, ServiceType } from '../api/schemas.js';
import type { BenchmarkClient, ConfigProblem } from './client.js';

/** What a client is told about the run it is part of. */
export interface ClientContext {
  runId: string;
  rank: number;
  ranks: number;
  load: Load;
  /** Requests this rank can have in flight (closed-loop workers or open-loop cap). */
  inflight: number;
  /** Connections a pool should have for that many requests in flight (see poolSize). */
  connections: number;
  /** How to reach the service; absent for workloads that need none. Credentials in it are references. */
  service?: Connection;
  /**
   * The service's password or token, read now from where its reference points
   * (undefined when the service has none). Throws a ConfigError naming the field.
   */
  credential(name: 'password' | 'token'): string | undefined;
  /** The rank's output folder: where a client may keep files of its own (raw request records). */
  outDir?: string;
}

export interface WorkloadDefinition<S extends z.ZodType = z.ZodType> {
  /** `spec.workload.type`; the schema's `type` literal. */
  type: string;
  /** One line for the README's table and `aifbctl validate`. */
  summary: string;
  /** The workload's settings, with their defaults: a strictObject with `type: z.literal(type)`. */
  schema: S;
  /** Service types it can talk to, whatever its settings. */
  services: readonly ServiceType[];
  /** Service types it can talk to with these settings (a protocol that only one server speaks), when narrower. */
  servicesFor?: (workload: z.output<S>) => readonly ServiceType[];
  /** False when it can run without any Service (it measures what the runner's host can reach). */
  needsService: boolean;
  /** What its client measures besides latency. */
  metrics: readonly MetricDecl[];
  /** Its ready example in examples/. */
  example: string;
  /**
   * Checks that need this host, not just the spec (a file the workload reads),
   * made at validation so a problem shows before anything starts. Paths start at
   * `workload.`; keep it cheap: it runs at every change of the resource's file.
   */
  preflight?(workload: z.output<S>): ConfigProblem[];
  /**
   * What `load.sweep.parameter` may name for these settings: a value the client
   * sets before each point (BenchmarkClient.beforePoint), e.g. HNSW efSearch.
   * Without it the workload has none.
   */
  sweepParameters?(workload: z.output<S>): readonly string[];
  /** Builds the client; imported lazily so the controller never loads client code. Throws ConfigError. */
  create(workload: z.output<S>, ctx: ClientContext): Promise<BenchmarkClient>;
}

/** Checks the definition's shape at compile time without widening its schema type. */
export const defineWorkload = <S extends z.ZodType>(definition: WorkloadDefinition<S>): WorkloadDefinition<S> => definition;
