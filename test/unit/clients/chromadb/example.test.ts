// examples/chromadb.yaml as a user copies it: its Service is one the local
// executor runs natively (`chroma run`), and its Benchmark's workload, as
// written, runs against a real ChromaDB at the sweep's first ef_search, leaving
// no collection behind. The checks through the registry (the Benchmark
// resource, the runner's spec.json) run once chromadb is registered.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { Load, ServiceSpec } from '../../../../api/schemas.js';
import { chromadb } from '../../../../clients/chromadb/index.js';
import { ChromadbWorkload } from '../../../../clients/chromadb/schema.js';
import type { BenchmarkClient } from '../../../../clients/client.js';
import { systemClock } from '../../../../clients/engine/clock.js';
import { runLoad } from '../../../../clients/engine/engine.js';
import { createClient, RunnerSpec, serviceMismatch, workloadDefinition } from '../../../../clients/registry.js';
import { checkSpec, encodeSpec } from '../../../../clients/runner/spec.js';
import { VECTOR_METRICS } from '../../../../clients/vector/metrics.js';
import { nativeTypeOf } from '../../../../containers/native/native-services.js';
import { validateResource } from '../../../../controller/api/validate.js';
import { startChroma, type ChromaServer } from './server.js';

type Doc = { kind: string; metadata: { name: string }; spec: Record<string, unknown> };
const docs = (): Doc[] => parseAllDocuments(readFileSync('examples/chromadb.yaml', 'utf8')).map((d) => d.toJS() as Doc);
const registered = workloadDefinition('chromadb') !== undefined;

let srv: ChromaServer | undefined;
let client: BenchmarkClient | undefined;
afterEach(async () => {
  await client?.teardown();
  client = undefined;
  await srv?.stop();
  srv = undefined;
});

describe('examples/chromadb.yaml', () => {
  it('its Service runs natively with the local executor, and the Benchmark points at it', () => {
    const [service, benchmark] = docs();
    expect(validateResource(service)).toMatchObject({ ok: true });
    expect(nativeTypeOf(ServiceSpec.parse(service.spec))).toBe('chromadb');
    expect(benchmark.spec.serviceRef).toBe(service.metadata.name);
    expect(chromadb.services).toContain('chromadb');
    // The swept parameter is one the workload can set per point.
    const w = ChromadbWorkload.parse(benchmark.spec.workload);
    const load = Load.parse(benchmark.spec.load);
    expect(chromadb.sweepParameters!(w)).toContain(load.sweep!.parameter!.name);
  });

  it('its workload, as written but for the data size, runs against chroma run: no errors, recall measured, no collection left', async () => {
    const benchmark = docs()[1];
    // 20000 vectors of 128 take ChromaDB about 10 s to take in here: a tenth of them, and of the queries, say the same.
    const asWritten = benchmark.spec.workload as { data: Record<string, unknown>; queries: Record<string, unknown> };
    const w = ChromadbWorkload.parse({ ...asWritten, data: { ...asWritten.data, count: 2000 }, queries: { ...asWritten.queries, count: 100 } });
    const written = Load.parse(benchmark.spec.load);
    srv = await startChroma();
    const load = Load.parse({ mode: 'closed', workers: written.workers, maxRequests: 80, seed: 7 });
    client = await chromadb.create(w, { runId: 'chromadb-hnsw-g1-a1', rank: 0, ranks: 1, load, inflight: 8, connections: 8, service: srv.service(), credential: () => undefined });
    await client.setup();
    await client.beforePoint!({ parameters: { efSearch: written.sweep!.parameter!.values[0] } });
    const r = await runLoad({ client, metrics: VECTOR_METRICS, load, ranks: 1, rank: 0, clock: systemClock });
    expect(r.totals).toMatchObject({ requests: 80, errors: 0 });
    expect(r.operations.search.metrics.recall.count).toBeGreaterThan(0);
    await client.teardown();
    client = undefined;
    expect((await srv.admin().listCollections()).map((c) => c.name)).toEqual([]);
  });

  it.skipIf(!registered)('through the registry: the Benchmark validates, and its spec.json round trip gives a chromadb client', async () => {
    const [, benchmark] = docs();
    const v = validateResource(benchmark);
    expect(v.ok).toBe(true);
    expect(serviceMismatch(benchmark.spec.workload as { type: string }, 'chromadb')).toBeUndefined();
    expect(serviceMismatch(benchmark.spec.workload as { type: string }, 'weaviate')).toBeDefined();
    srv = await startChroma();
    const load = Load.parse({ mode: 'closed', workers: 2, maxRequests: 20, seed: 7 });
    const workload = ChromadbWorkload.parse({ ...(benchmark.spec.workload as object), data: { count: 500 }, queries: { count: 50 } });
    const spec = { benchmark: 'chromadb-hnsw', runId: 'chromadb-hnsw-g1-a2', ranks: 1, workload, load, service: srv.service() };
    const read = checkSpec(JSON.parse(JSON.stringify(encodeSpec(spec as unknown as RunnerSpec))));
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    client = await createClient(read.spec, { rank: 0 });
    await client.setup();
    expect((await srv.admin().listCollections()).map((c) => c.name)).toEqual(['aifb-chromadb-hnsw-g1-a2']);
    expect(await (await srv.admin().getCollection({ name: 'aifb-chromadb-hnsw-g1-a2' })).count()).toBe(500);
  });
});
