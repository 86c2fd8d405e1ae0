// The weaviate client against the Weaviate stand-in (test/fakes/weaviate-server.ts),
// made through the definition's create(): what the server ends up holding,
// recall (1.0: the stand-in searches exactly), the filter on the wire, the
// class's HNSW settings and ef per point, and cleanup.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Load } from '../../../../api/schemas.js';
import { systemClock } from '../../../../clients/engine/clock.js';
import { runLoad } from '../../../../clients/engine/engine.js';
import { VECTOR_METRICS } from '../../../../clients/vector/metrics.js';
import { idOfUuid, uuidOf, type WeaviateBenchClient } from '../../../../clients/weaviate/client.js';
import { startFakeWeaviate, type FakeWeaviate } from '../../../fakes/weaviate-server.js';
import { context, create, serviceAt, workload } from './fixtures.js';

let fake: FakeWeaviate;
let open: WeaviateBenchClient[] = [];
beforeEach(async () => {
  fake = await startFakeWeaviate();
});
afterEach(async () => {
  for (const c of open) await c.teardown().catch(() => {});
  open = [];
  await fake.close();
});

async function client(over: Record<string, unknown>, load?: Record<string, unknown>, rank = 0, ranks = 1) {
  const c = await create(workload(over), context(serviceAt(fake.url), load, rank, ranks));
  open.push(c);
  return c;
}
const run = (c: WeaviateBenchClient, load: Record<string, unknown>) => runLoad({ client: c, metrics: VECTOR_METRICS, load: Load.parse(load), ranks: 1, rank: 0, clock: systemClock });

describe('weaviate client against the stand-in', () => {
  it('runs the mix: objects as the server counts them, every search scored at recall 1.0, the filter sent, the class gone at teardown', async () => {
    const load = { mode: 'closed', workers: 4, maxRequests: 240, seed: 9 };
    const c = await client({ batchSize: 5, filter: { labels: 4 }, operationMix: { insert: 1, search: 3, filteredSearch: 2, update: 1, delete: 1 } }, load);
    await c.setup();
    expect(fake.counts()).toEqual({ AifbBench: 300 });
    const r = await run(c, load);
    expect(r.totals).toMatchObject({ requests: 240, errors: 0 });
    const ops = r.operations;
    for (const op of ['insert', 'search', 'filteredSearch', 'update', 'delete']) expect(ops[op].requests, op).toBeGreaterThan(10);
    // Each insert adds 5 objects, each delete removes 5, an update replaces 5 in place.
    expect(fake.counts().AifbBench).toBe(300 + 5 * ops.insert.requests - 5 * ops.delete.requests);
    // One GraphQL search per request; the filtered ones, and only they, carried a where filter.
    expect(fake.searches).toBe(ops.search.requests + ops.filteredSearch.requests);
    expect(fake.filteredSearches).toBe(ops.filteredSearch.requests);
    // The stand-in is exact: every scored search found its true neighbours, while writes ran beside it.
    for (const op of ['search', 'filteredSearch']) {
      const recall = ops[op].metrics.recall;
      expect(recall.count, op).toBeGreaterThan(0);
      expect(recall.sum / recall.count, op).toBe(1);
    }
    // The preload is its own figure, not a request.
    expect(ops.load.metrics.loadTime.count).toBe(1);
    expect(ops.load.requests).toBe(0);
    await c.teardown();
    expect(fake.counts()).toEqual({});
  });

  it('creates the class with the metric as Weaviate names it and the HNSW settings, sets ef per point, and keeps the class with keep', async () => {
    const c = await client({ metric: 'ip', ef: 40, efConstruction: 64, maxConnections: 16, keep: true, className: 'Kept' });
    await c.setup();
    expect(fake.classSpec('Kept')).toMatchObject({ vectorizer: 'none', vectorIndexConfig: { distance: 'dot', ef: 40, efConstruction: 64, maxConnections: 16 } });
    await c.beforePoint({ parameters: { ef: 200 } });
    expect(fake.classSpec('Kept')).toMatchObject({ vectorIndexConfig: { distance: 'dot', ef: 200, efConstruction: 64 } });
    await expect(c.beforePoint({ parameters: { nprobe: 4 } })).rejects.toThrow(/load\.sweep\.parameter\.name: the weaviate workload cannot set nprobe per point; it can set ef, batchSize, queryBatch/);
    const r = await run(c, { mode: 'closed', workers: 2, maxRequests: 30, seed: 1 });
    expect(r.operations.search.metrics.recall.sum / r.operations.search.metrics.recall.count).toBe(1);
    await c.teardown();
    expect(fake.counts()).toEqual({ Kept: 300 });
  });

  it('gives each rank a class of its own when there are several', async () => {
    const a = await client({ data: { count: 50 } }, undefined, 0, 2);
    const b = await client({ data: { count: 50 } }, undefined, 1, 2);
    await a.setup();
    await b.setup();
    expect(fake.counts()).toEqual({ AifbBench_r0: 50, AifbBench_r1: 50 });
    await a.teardown();
    await b.teardown();
    expect(fake.counts()).toEqual({});
  });

  it('streams inserts beside the searches: each streamed vector found by a search, its insert-to-searchable time measured', async () => {
    const c = await client({ data: { count: 100 }, streaming: { insertRate: 50, checkpointEvery: 10, probeInterval: 2 } });
    await c.setup();
    await c.beforePoint({ parameters: {} });
    const r = await run(c, { mode: 'open', rate: 100, duration: '1s', seed: 2 });
    await c.teardown();
    const search = r.operations.search.metrics;
    expect(search.insertToSearchable.count).toBeGreaterThan(10);
    expect(search.notSearchable).toBeUndefined();
    expect(search.recall.sum / search.recall.count).toBe(1);
  });

  it('maps ids to UUIDs and back, and reads an object not written by aifb as no id', () => {
    expect(uuidOf(0)).toBe('a1fb0000-0000-8000-8000-000000000000');
    expect(uuidOf(123_456_789)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(idOfUuid(uuidOf(123_456_789))).toBe(123_456_789);
    expect(idOfUuid('5a7c1d4e-0000-4000-8000-000000000001')).toBe(-1);
  });
});
