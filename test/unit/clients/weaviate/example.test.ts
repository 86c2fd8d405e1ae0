// examples/weaviate.yaml as a user copies it: a weaviate Service from the image
// catalog and a Benchmark that points at it, whose workload, exactly as
// written (fewer queries), runs every point of its ef sweep against the Weaviate stand-in.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { Load } from '../../../../api/schemas.js';
import type { BenchmarkResource } from '../../../../controller/api/schemas.js';
import { validateResource } from '../../../../controller/api/validate.js';
import { systemClock } from '../../../../clients/engine/clock.js';
import { runLoad } from '../../../../clients/engine/engine.js';
import { createClient, RunnerSpec, serviceMismatch, workloadDefinition } from '../../../../clients/registry.js';
import { checkSpec, encodeSpec } from '../../../../clients/runner/spec.js';
import { VECTOR_METRICS } from '../../../../clients/vector/metrics.js';
import type { WeaviateBenchClient } from '../../../../clients/weaviate/client.js';
import { weaviate } from '../../../../clients/weaviate/index.js';
import { startFakeWeaviate, type FakeWeaviate } from '../../../fakes/weaviate-server.js';
import { context, create, serviceAt } from './fixtures.js';

const docs = parseAllDocuments(readFileSync('examples/weaviate.yaml', 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> });
const service = docs.find((d) => d.kind === 'Service')!;
const benchmark = docs.find((d) => d.kind === 'Benchmark')!;
const written = benchmark.spec.workload as Record<string, unknown>;
const registered = workloadDefinition('weaviate') !== undefined;

let fake: FakeWeaviate | undefined;
let client: WeaviateBenchClient | undefined;
afterEach(async () => {
  await client?.teardown();
  client = undefined;
  await fake?.close();
});

describe('examples/weaviate.yaml', () => {
  it('has a weaviate Service from the image catalog, and a Benchmark pointing at it', () => {
    const r = validateResource(service);
    expect(r.ok, JSON.stringify(!r.ok && r.problems)).toBe(true);
    expect(service.spec).toMatchObject({ type: 'weaviate' });
    expect(service.spec.image ?? service.spec.command ?? service.spec.endpoint).toBeUndefined();
    expect(benchmark.spec.serviceRef).toBe(service.metadata.name);
    expect(written.type).toBe('weaviate');
  });

  it('its workload is valid as written, and sweeps a parameter the workload can set', () => {
    const w = weaviate.schema.parse(written);
    expect(weaviate.preflight!(w)).toEqual([]);
    const load = Load.parse(benchmark.spec.load);
    expect(weaviate.sweepParameters!(w)).toContain(load.sweep!.parameter!.name);
  });

  it.runIf(registered)('validates as a whole once weaviate is registered, and talks to a weaviate Service', () => {
    for (const d of docs) {
      const r = validateResource(d);
      expect(r.ok, JSON.stringify(!r.ok && r.problems)).toBe(true);
    }
    expect(serviceMismatch({ type: 'weaviate' }, 'weaviate')).toBeUndefined();
  });

  it('runs every point of its ef sweep against the stand-in, at recall 1.0, and leaves no class behind', async () => {
    fake = await startFakeWeaviate();
    // As written, but 100 of its 1000 queries: the brute-force truth of all 1000 takes this test 14 s.
    const w = weaviate.schema.parse({ ...written, queries: { count: 100 } });
    const sweep = Load.parse(benchmark.spec.load).sweep!.parameter!;
    // The example's 10000 vectors, a short load per point.
    const load = Load.parse({ mode: 'closed', workers: 8, maxRequests: 40, seed: 7 });
    if (registered) {
      // Round-tripped through the runner's spec.json and made by the registry, as the runner does.
      const spec: RunnerSpec = { benchmark: benchmark.metadata.name, runId: 'weaviate-hnsw-g1-a1', ranks: 1, workload: w as RunnerSpec['workload'], load, service: serviceAt(fake.url) };
      const read = checkSpec(JSON.parse(JSON.stringify(encodeSpec(spec))));
      expect(read.ok).toBe(true);
      if (!read.ok) return;
      client = (await createClient(read.spec, { rank: 0 })) as WeaviateBenchClient;
    } else {
      client = await create(w, context(serviceAt(fake.url), load));
    }
    await client.setup();
    expect(fake.counts()).toEqual({ AifbBench: 10_000 });
    for (const value of sweep.values) {
      await client.beforePoint({ parameters: { [sweep.name]: value } });
      expect(fake.classSpec('AifbBench')).toMatchObject({ vectorIndexConfig: { distance: 'l2-squared', ef: value, efConstruction: 128, maxConnections: 32 } });
      const r = await runLoad({ client, metrics: VECTOR_METRICS, load, ranks: 1, rank: 0, clock: systemClock });
      expect(r.totals, `ef ${value}`).toMatchObject({ requests: 40, errors: 0 });
      for (const op of ['search', 'filteredSearch']) {
        const recall = r.operations[op].metrics.recall;
        expect(recall.sum / recall.count, `${op} at ef ${value}`).toBe(1);
      }
    }
    await client.teardown();
    client = undefined;
    expect(fake.counts()).toEqual({});
  }, 60_000);
});
