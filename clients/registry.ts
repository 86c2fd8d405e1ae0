// The workload types, one line each. Everything that needs to know them (the
// Benchmark schema, the JSON Schema, `aifbctl validate`, the runner) reads this.
import { z } from 'zod';
import { runnerSpec } from '../api/runner-contract.js';
import type { ServiceType } from '../api/schemas.js';
import { ConfigError, type BenchmarkClient } from './client.js';
import { inflightLimit, poolSize } from './engine/engine.js';
import { resolveSecret } from './secrets.js';
import { chromadb } from './chromadb/index.js';
import { faiss } from './faiss/index.js';
import { fileStorage } from './file-storage/index.js';
import { http } from './http/index.js';
import { llm } from './llm/index.js';
import { postgresql } from './postgresql/index.js';
import { s3 } from './s3/index.js';
import { weaviate } from './weaviate/index.js';
import type { ClientContext, WorkloadDefinition } from './workload.js';

export const WORKLOADS = [
  fileStorage,
  llm,
  http,
  postgresql,
  s3,
  faiss,
  chromadb,
  weaviate,
] as const;

type Schemas<T extends readonly WorkloadDefinition[]> = { -readonly [K in keyof T]: T[K]['schema'] };

/** `spec.workload`: one of the registered workload schemas, chosen by `type`. */
export const Workload = z.discriminatedUnion('type', WORKLOADS.map((w) => w.schema) as unknown as Schemas<typeof WORKLOADS>);
export type Workload = z.output<typeof Workload>;
export type WorkloadType = Workload['type'];

/** The runner's spec.json for every registered workload (see api/runner-contract.ts). */
export const RunnerSpec = runnerSpec(Workload);
export type RunnerSpec = z.output<typeof RunnerSpec>;

export function workloadDefinition(type: string): WorkloadDefinition | undefined {
  return (WORKLOADS as readonly WorkloadDefinition[]).find((w) => w.type === type);
}

/** Why a workload cannot talk to a service type, or undefined when it can. */
export function serviceMismatch(workload: { type: string }, serviceType: ServiceType): string | undefined {
  const def = workloadDefinition(workload.type);
  if (!def) return undefined;
  const fits = def.servicesFor?.(workload as never) ?? def.services;
  if (fits.includes(serviceType)) return undefined;
  const settings = def.servicesFor && fits.length < def.services.length ? ' with these settings' : '';
  return `a ${workload.type} workload${settings} cannot talk to a Service of type ${serviceType}; types that fit: ${fits.join(', ')}`;
}

/** The client for `spec.workload.type`; throws ConfigError listing every config problem. */
export async function createClient(spec: RunnerSpec, ctx: { rank: number; outDir?: string }): Promise<BenchmarkClient> {
  const def = workloadDefinition(spec.workload.type);
  if (!def) {
    throw new ConfigError([{ path: 'workload.type', message: `"${spec.workload.type}" has no client in this runner; known types: ${WORKLOADS.map((w) => w.type).join(', ')}` }]);
  }
  const context: ClientContext = {
    runId: spec.runId,
    rank: ctx.rank,
    ranks: spec.ranks,
    load: spec.load,
    inflight: inflightLimit(spec.load, spec.ranks, ctx.rank),
    connections: poolSize(inflightLimit(spec.load, spec.ranks, ctx.rank)),
    service: spec.service,
    outDir: ctx.outDir,
    credential: (name) => {
      const ref = spec.service?.credentials?.[name];
      if (!ref) return undefined;
      try {
        return resolveSecret(ref, `service.credentials.${name}`);
      } catch (e) {
        throw new ConfigError([{ path: `service.credentials.${name}`, message: (e as Error).message.replace(/^service\.credentials\.\w+: /, '') }]);
      }
    },
  };
  return def.create(spec.workload as never, context);
}
