// Maps a workload type to its client: adding a client is one new file and one
// line here. Config problems surface as a ConfigError before anything opens.
import type { Workload } from '../api/schemas.js';
import type { RunnerSpec } from '../api/runner-contract.js';
import { ConfigError, type BenchmarkClient } from './client.js';
import { FileStorageClient } from './file-storage.js';
import { LlmClient, llmConnections } from './llm.js';

export interface ClientContext {
  rank: number;
}

type Factory<T extends Workload['type']> = (workload: Extract<Workload, { type: T }>, spec: RunnerSpec, ctx: ClientContext) => BenchmarkClient;

const FACTORIES: { [T in Workload['type']]: Factory<T> } = {
  'file-storage': (w, spec, ctx) => new FileStorageClient(w, { runId: spec.runId, rank: ctx.rank }),
  llm: (w, spec, ctx) => new LlmClient(w, { endpoint: spec.endpoint, connections: llmConnections(spec.load, spec.ranks, ctx.rank) }),
};

/** The client for `spec.workload.type`; throws ConfigError listing every config problem. */
export function createClient(spec: RunnerSpec, ctx: ClientContext): BenchmarkClient {
  const factory = FACTORIES[spec.workload.type] as Factory<Workload['type']> | undefined;
  if (!factory) {
    throw new ConfigError([{ path: 'workload.type', message: `"${spec.workload.type}" has no client in this runner; known types: ${Object.keys(FACTORIES).join(', ')}` }]);
  }
  return factory(spec.workload, spec, ctx);
}

export const CLIENT_TYPES = Object.keys(FACTORIES) as Array<Workload['type']>;
