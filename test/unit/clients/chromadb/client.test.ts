// The chromadb workload against a real ChromaDB (`chroma run`, started as the
// local executor starts it): counts as the server saw them, recall of HNSW
// search and filtered search, HNSW settings on the collection and per sweep
// point, the collection gone at the end, and what a user is told when the
// dimension does not match or the server cannot be reached.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Load } from '../../../../api/schemas.js';
import { chromadb } from '../../../../clients/chromadb/index.js';
import { ChromadbWorkload } from '../../../../clients/chromadb/schema.js';
import { ConfigError, type BenchmarkClient } from '../../../../clients/client.js';
import { systemClock } from '../../../../clients/engine/clock.js';
import { runLoad, type LoadResults } from '../../../../clients/engine/engine.js';
import type { ClientContext } from '../../../../clients/workload.js';
import { VECTOR_METRICS } from '../../../../clients/vector/metrics.js';
import { freeLocalPort } from '../../../../containers/native/native-services.js';
import { startChroma, type ChromaServer } from './server.js';

let srv: ChromaServer;
beforeAll(async () => {
  srv = await startChroma();
});
afterAll(async () => {
  await srv?.stop();
});

let open: BenchmarkClient[] = [];
afterEach(async () => {
  for (const c of open) await c.teardown().catch(() => {});
  open = [];
});

const SMALL = { dimension: 16, data: { count: 2000, clusters: 8 }, queries: { count: 200 }, searchK: 10 };
const workload = (over: Record<string, unknown> = {}) => ChromadbWorkload.parse({ type: 'chromadb', ...SMALL, ...over });
const closed = (workers: number, requests: number) => Load.parse({ mode: 'closed', workers, maxRequests: requests, seed: 7 });

function context(over: Partial<ClientContext> = {}): ClientContext {
  const load = over.load ?? closed(4, 100);
  return { runId: 'vectors-g1-a1', rank: 0, ranks: 1, load, inflight: 4, connections: 4, service: srv.service(), credential: () => undefined, ...over };
}

async function client(w: ChromadbWorkload, over: Partial<ClientContext> = {}): Promise<BenchmarkClient> {
  const c = await chromadb.create(w, context(over));
  open.push(c);
  return c;
}

/** setup, the one point of a plain run, and the load: what the runner does. */
async function run(c: BenchmarkClient, load: Load): Promise<LoadResults> {
  await c.setup();
  await c.beforePoint?.({ parameters: {} });
  return runLoad({ client: c, metrics: VECTOR_METRICS, load, ranks: 1, rank: 0, clock: systemClock });
}

const meanRecall = (r: LoadResults, op: string) => {
  const m = r.operations[op].metrics.recall;
  return m.sum / m.count;
};
const names = async () => (await srv.admin().listCollections()).map((c) => c.name);
const countOf = async (name: string) => (await srv.admin().getCollection({ name })).count();

async function setupError(c: BenchmarkClient): Promise<Error> {
  try {
    await c.setup();
  } catch (e) {
    return e as Error;
  } finally {
    await c.teardown();
  }
  throw new Error('setup succeeded');
}

describe('the chromadb workload against chroma run', () => {
  it('runs the mix: the collection holds what the run inserted and deleted, recall is measured under concurrency, the collection goes at the end', async () => {
    const load = closed(4, 200);
    const c = await client(workload({ batchSize: 5, operationMix: { insert: 1, search: 2, update: 1, delete: 1 } }), { load });
    const r = await run(c, load);
    expect(r.totals).toMatchObject({ requests: 200, errors: 0 });
    const ops = r.operations;
    for (const op of ['insert', 'search', 'update', 'delete']) expect(ops[op].requests, op).toBeGreaterThan(10);
    // Each insert added 5 new vectors and each delete removed 5 live ones; updates kept the count.
    expect(await countOf('aifb-vectors-g1-a1')).toBe(2000 + 5 * ops.insert.requests - 5 * ops.delete.requests);
    // HNSW (ChromaDB's defaults) on 8 clusters: near the exact neighbours, each search scored against the live truth.
    expect(ops.search.metrics.recall.count).toBeGreaterThan(0);
    expect(meanRecall(r, 'search')).toBeGreaterThan(0.8);
    expect(meanRecall(r, 'search')).toBeLessThanOrEqual(1);
    // The preload is its own figure, once.
    expect(ops.load.metrics.loadTime.count).toBe(1);
    expect(ops.load.requests).toBe(0);

    await c.teardown();
    expect(await names()).not.toContain('aifb-vectors-g1-a1');
  });

  it('filtered search: one label per query as a `where`, recall against the filtered truth', async () => {
    const load = closed(2, 120);
    const c = await client(workload({ filter: { labels: 4 }, queryBatch: 4, operationMix: { filteredSearch: 1 } }), { load });
    const r = await run(c, load);
    expect(r.totals).toMatchObject({ requests: 120, errors: 0 });
    // Unfiltered neighbours would share the query's label about one time in four: recall near 0.25.
    expect(meanRecall(r, 'filteredSearch')).toBeGreaterThan(0.8);
  });

  it("the collection takes the workload's metric and HNSW settings; efSearch changes per sweep point; keep leaves it", async () => {
    const c = await client(workload({ metric: 'cosine', efSearch: 40, efConstruction: 64, M: 12, keep: true, collection: 'kept-one', operationMix: { search: 1 } }));
    await c.setup();
    const hnsw = () => srv.admin().getCollection({ name: 'kept-one' }).then((col) => (col.configuration as { hnsw: Record<string, unknown> }).hnsw);
    expect(await hnsw()).toMatchObject({ space: 'cosine', ef_search: 40, ef_construction: 64, max_neighbors: 12 });
    await c.beforePoint!({ parameters: { efSearch: 7 } });
    expect((await hnsw()).ef_search).toBe(7);
    await expect(c.beforePoint!({ parameters: { nprobe: 4 } })).rejects.toThrow('the chromadb workload cannot set nprobe per point; it can set queryBatch, batchSize, efSearch');
    await c.teardown();
    expect(await countOf('kept-one')).toBe(2000);
    await srv.admin().deleteCollection({ name: 'kept-one' });
  });

  it('several ranks: each has its own collection', async () => {
    const c = await client(workload({ collection: 'ranked', data: { count: 50 }, operationMix: { search: 1 } }), { rank: 1, ranks: 2 });
    await c.setup();
    expect(await names()).toContain('ranked-r1');
    await c.teardown();
    expect(await names()).not.toContain('ranked-r1');
  });
});

describe('what a user is told', () => {
  it('a collection of another dimension: a config problem naming the field and the fix, and the collection left alone', async () => {
    const admin = srv.admin();
    const other = await admin.createCollection({ name: 'eight-dims', embeddingFunction: null });
    await other.add({ ids: ['a'], embeddings: [[1, 2, 3, 4, 5, 6, 7, 8]] });
    const e = await setupError(await client(workload({ collection: 'eight-dims' })));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe('workload.dimension: collection "eight-dims" holds vectors of dimension 8; workload.dimension is 16: set workload.dimension to 8, or workload.collection to another name');
    expect(await countOf('eight-dims')).toBe(1);
    await admin.deleteCollection({ name: 'eight-dims' });
  });

  it('an existing collection with vectors in it: refused, since the ground truth would not know them', async () => {
    const admin = srv.admin();
    const other = await admin.createCollection({ name: 'not-empty', embeddingFunction: null });
    await other.add({ ids: ['a'], embeddings: [Array.from({ length: 16 }, () => 0.5)] });
    const e = await setupError(await client(workload({ collection: 'not-empty' })));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/^workload.collection: collection "not-empty" already holds 1 vectors, which the ground truth knows nothing of; set workload.collection to another name/);
    await admin.deleteCollection({ name: 'not-empty' });
  });

  it('nothing listening: says so, with the address and what to check', async () => {
    const port = await freeLocalPort();
    const e = await setupError(await client(workload(), { service: srv.service({ port }) }));
    expect(e.message).toBe(
      `cannot reach ChromaDB at http://127.0.0.1:${port}: connection refused (nothing listens there) (ECONNREFUSED); check that the Service is running and its host and port are right`,
    );
  });

  it('no service, or filteredSearch without labels: every problem at once, before anything opens', async () => {
    await expect(chromadb.create(workload({ operationMix: { filteredSearch: 1 } }), context({ service: undefined }))).rejects.toThrow(
      'workload.filter: filteredSearch needs labels to filter on: set filter: { labels: 10 } (each vector gets one of 10 labels); serviceRef: a chromadb workload needs a service',
    );
  });

  it('a collection name ChromaDB would refuse is a schema problem', () => {
    expect(ChromadbWorkload.safeParse({ type: 'chromadb', collection: 'a' }).success).toBe(false);
    expect(ChromadbWorkload.safeParse({ type: 'chromadb', collection: 'bad..name' }).success).toBe(false);
    expect(ChromadbWorkload.safeParse({ type: 'chromadb', collection: 'good_name-1' }).success).toBe(true);
  });
});
