// Benchmark (not a test): aifb's Faiss Flat search QPS against a bare
// faiss-node loop on the same index and the same queries: the engine's and the
// faiss client's overhead (a worker thread per search thread, the message to
// it and back, the recall scoring). Both search one query at a time, one
// search thread each, for the same time; the bare loop runs first and last so
// whatever else the machine does falls on both alike.
import { Load } from '../../api/schemas.js';
import { systemClock } from '../../clients/engine/clock.js';
import { runLoad } from '../../clients/engine/engine.js';
import { percentileMs } from '../../clients/engine/histogram.js';
import { FaissClient } from '../../clients/faiss/client.js';
import { FAISS_METRIC, faissModule } from '../../clients/faiss/native.js';
import { FaissWorkload } from '../../clients/faiss/schema.js';
import { loadDataset } from '../../clients/vector/dataset.js';
import { VECTOR_METRICS } from '../../clients/vector/metrics.js';

const SECONDS = 6;
const DIMENSION = 128;
const COUNT = 20_000;
const QUERIES = 1000;
const K = 10;

const workload = FaissWorkload.parse({
  type: 'faiss',
  index: 'Flat',
  dimension: DIMENSION,
  data: { count: COUNT },
  queries: { count: QUERIES },
  searchK: K,
  operationMix: { search: 1 },
  threads: 1,
});

interface Sample {
  /** aifb-N: N requests in flight on the one search thread. */
  tool: 'bare' | 'aifb-1' | 'aifb-2';
  qps: number;
  p50Ms: number;
  p99Ms: number;
}

/** faiss-node alone, in this thread: index.search in a loop over the queries. */
function bare(): Sample {
  const ds = loadDataset(workload);
  const index = faissModule().Index.fromFactory(DIMENSION, 'Flat', FAISS_METRIC.l2);
  index.add(Array.from(ds.base.subarray(0, COUNT * DIMENSION)));
  const queries = Array.from({ length: ds.queryCount }, (_, q) => Array.from(ds.queries.subarray(q * DIMENSION, (q + 1) * DIMENSION)));
  const times: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  for (let i = 0; performance.now() < end; i++) {
    const t = performance.now();
    index.search(queries[i % queries.length], K);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { tool: 'bare', qps: times.length / SECONDS, p50Ms: times[Math.floor(times.length * 0.5)], p99Ms: times[Math.floor(times.length * 0.99)] };
}

/**
 * The faiss workload as a runner has it, one search thread, every scored
 * search scored. With one worker the thread waits for each hop to and from
 * the main thread; with two, the next search is queued while one runs, so the
 * thread never waits (the default: `threads` is at most the requests in flight).
 */
async function aifb(workers: 1 | 2): Promise<Sample> {
  const c = new FaissClient(workload, { rank: 0, ranks: 1, seed: 1, threads: 1 });
  await c.setup();
  try {
    await c.beforePoint({ parameters: {} });
    const r = await runLoad({ client: c, metrics: VECTOR_METRICS, load: Load.parse({ mode: 'closed', workers, duration: `${SECONDS}s` }), ranks: 1, rank: 0, clock: systemClock });
    if (r.totals.errors > 0) throw new Error(`aifb: ${r.totals.errors} errors: ${JSON.stringify(r.totals.errorsByReason)}`);
    const h = r.histograms.forOp('search');
    return { tool: workers === 1 ? 'aifb-1' : 'aifb-2', qps: r.totals.requests / (r.measuredMs / 1000), p50Ms: percentileMs(h, 50), p99Ms: percentileMs(h, 99) };
  } finally {
    await c.teardown();
  }
}

export async function main(): Promise<void> {
  console.log(`faiss: Flat, ${COUNT} vectors of ${DIMENSION}, k ${K}, one query per search, one search thread, ${SECONDS} s per run`);
  const samples = [bare(), await aifb(1), await aifb(2), await aifb(2), await aifb(1), bare()];
  console.log('TOOL       QPS   P50 (ms)  P99 (ms)');
  for (const s of samples) console.log(`${s.tool.padEnd(6)} ${s.qps.toFixed(0).padStart(7)} ${s.p50Ms.toFixed(3).padStart(10)} ${s.p99Ms.toFixed(3).padStart(9)}`);
  const mean = (tool: Sample['tool']) => samples.filter((s) => s.tool === tool).reduce((a, s) => a + s.qps, 0) / 2;
  console.log(`ratio aifb/bare, one search in flight: Flat search QPS x${(mean('aifb-1') / mean('bare')).toFixed(2)} (1.00 = no overhead)`);
  console.log(`ratio aifb/bare, two in flight on the one thread: Flat search QPS x${(mean('aifb-2') / mean('bare')).toFixed(2)}`);
}
