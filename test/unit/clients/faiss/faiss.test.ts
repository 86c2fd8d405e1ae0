// Faiss through the runner, in this process, as a benchmark runs it: real
// faiss-node (built as DEVELOPERS.md says; test-all.sh builds it), seeded
// vectors, recall scored against brute-force neighbours.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNER_EXIT, type RankDone, type RankSummary } from '../../../../api/runner-contract.js';
import { Load } from '../../../../api/schemas.js';
import { systemClock } from '../../../../clients/engine/clock.js';
import { Workload } from '../../../../clients/registry.js';
import { runRunner } from '../../../../clients/runner/run.js';
import { encodeSpec } from '../../../../clients/runner/spec.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'aifb-faiss-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface Run {
  code: number;
  dir: string;
  warnings: string[];
  summary?: RankSummary;
  done: RankDone;
}

async function run(name: string, workload: Record<string, unknown>, load: Record<string, unknown> = {}): Promise<Run> {
  const dir = join(tmp, name);
  const spec = {
    benchmark: 'faiss',
    runId: name,
    ranks: 1,
    workload: Workload.parse({ type: 'faiss', dimension: 16, data: { count: 2000 }, queries: { count: 200 }, ...workload }),
    load: Load.parse({ mode: 'closed', workers: 2, duration: '700ms', warmup: '100ms', ...load }),
  };
  const specPath = join(tmp, `${name}.json`);
  await writeFile(specPath, JSON.stringify(encodeSpec(spec as never)));
  const warnings: string[] = [];
  const code = await runRunner({ specPath, outDir: dir, rank: 0, clock: systemClock, signal: new AbortController().signal, emit: () => {}, warn: (m) => warnings.push(m) });
  const done = JSON.parse(await readFile(join(dir, 'rank-0.done.json'), 'utf8')) as RankDone;
  const summary = code === RUNNER_EXIT.ok && !spec.load.sweep ? (JSON.parse(await readFile(join(dir, 'rank-0.summary.json'), 'utf8')) as RankSummary) : undefined;
  return { code, dir, warnings, summary, done };
}

/** The mean recall the rank recorded over its searches. */
function meanRecall(s: RankSummary): { mean: number; n: number } {
  const hist = s.operations.search?.metrics.recall;
  expect(hist, 'search recorded recall').toBeDefined();
  return { mean: hist!.sum / hist!.count, n: hist!.count };
}

describe('the faiss workload', () => {
  it('Flat is exact: every scored search has recall 1, and load and build time are reported apart from the run', async () => {
    const r = await run('flat', { index: 'Flat', operationMix: { search: 1 } });
    expect(r.warnings).toEqual([]);
    expect(r.code).toBe(RUNNER_EXIT.ok);
    const s = r.summary!;
    expect(s.totals.errors).toBe(0);
    expect(s.operations.search.requests).toBeGreaterThan(10);
    const { mean, n } = meanRecall(s);
    expect(n).toBeGreaterThan(10);
    expect(mean).toBe(1);
    expect(s.operations.load?.metrics.loadTime?.count).toBe(1);
    expect(s.operations.build?.metrics.buildTime?.count).toBe(1);
    expect(s.operations.load?.requests ?? 0).toBe(0);
  });

  it('HNSW: recall is measured, below 1 at a tiny efSearch and higher at a large one (a parameter sweep, one point each)', async () => {
    const r = await run('hnsw', { index: 'HNSW8', operationMix: { search: 1 }, data: { count: 3000, distribution: 'uniform' } }, { sweep: { parameter: { name: 'efSearch', values: [1, 128] } } });
    expect(r.code).toBe(RUNNER_EXIT.ok);
    const sweep = JSON.parse(await readFile(join(r.dir, 'rank-0.sweep.json'), 'utf8')) as { points: Array<{ parameter?: { name: string; value: number }; dir: string }> };
    expect(sweep.points.map((p) => p.parameter)).toEqual([
      { name: 'efSearch', value: 1 },
      { name: 'efSearch', value: 128 },
    ]);
    const recalls: number[] = [];
    for (const p of sweep.points) {
      const s = JSON.parse(await readFile(join(r.dir, p.dir, 'rank-0.summary.json'), 'utf8')) as RankSummary;
      recalls.push(meanRecall(s).mean);
    }
    expect(recalls[0]).toBeLessThan(0.9);
    expect(recalls[1]).toBeGreaterThan(recalls[0]);
    expect(recalls[1]).toBeGreaterThan(0.9);
  });

  it('IVF: trained at setup; nprobe equal to nlist visits every list and is exact, nprobe 1 is not (a parameter sweep)', async () => {
    const r = await run('ivf', { index: 'IVF16,Flat', operationMix: { search: 1 }, data: { count: 3000, distribution: 'uniform' } }, { sweep: { parameter: { name: 'nprobe', values: [1, 16] } } });
    expect(r.code).toBe(RUNNER_EXIT.ok);
    const sweep = JSON.parse(await readFile(join(r.dir, 'rank-0.sweep.json'), 'utf8')) as { points: Array<{ dir: string }> };
    const recalls: number[] = [];
    for (const p of sweep.points) recalls.push(meanRecall(JSON.parse(await readFile(join(r.dir, p.dir, 'rank-0.summary.json'), 'utf8')) as RankSummary).mean);
    expect(recalls[0]).toBeLessThan(0.9);
    expect(recalls[1]).toBe(1);
  });

  it('nprobe beyond the lists the index has is a config problem, before any point runs', async () => {
    const r = await run('ivf-nprobe', { index: 'IVF16,Flat', nprobe: 64, operationMix: { search: 1 } });
    expect(r.code).toBe(RUNNER_EXIT.config);
    expect(r.done.reason).toMatch(/nprobe 64 is more lists than "IVF16,Flat" has \(nlist 16\)/);
  });

  it('Flat with inserts, updates, deletes and filtered search: no errors, and recall stays exact against the live truth', async () => {
    const r = await run('writes', { index: 'Flat', filter: { labels: 4 }, batchSize: 4, operationMix: { search: 0.4, filteredSearch: 0.3, insert: 0.1, update: 0.1, delete: 0.1 } });
    expect(r.warnings).toEqual([]);
    expect(r.code).toBe(RUNNER_EXIT.ok);
    const s = r.summary!;
    expect(s.totals.errors).toBe(0);
    for (const op of ['insert', 'update', 'delete', 'filteredSearch']) expect(s.operations[op]?.requests, op).toBeGreaterThan(0);
    expect(meanRecall(s).mean).toBe(1);
    const filtered = s.operations.filteredSearch.metrics.recall!;
    expect(filtered.sum / filtered.count).toBe(1);
  });

  it('an index string the factory rejects is a config problem naming workload.index, and nothing runs', async () => {
    const r = await run('bad-index', { index: 'HNSWxyz', operationMix: { search: 1 } });
    expect(r.code).toBe(RUNNER_EXIT.config);
    expect(r.done.reason).toMatch(/workload\.index/);
    expect(r.done.reason).toMatch(/index factory cannot make "HNSWxyz"/);
  });

  it('deletes from HNSW are refused before Faiss is asked (faiss-node would end the process)', async () => {
    const r = await run('hnsw-delete', { index: 'HNSW8', operationMix: { search: 0.5, delete: 0.5 } });
    expect(r.code).toBe(RUNNER_EXIT.config);
    expect(r.done.reason).toMatch(/set index: Flat, or drop update and delete/);
  });
});
