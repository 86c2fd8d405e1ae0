// The dataset and its live truth: after any sequence of acknowledged inserts,
// deletes and updates the scored queries' neighbours equal a brute force from
// scratch; writes that overlap a search are allowed for; repeats are not rescored.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng } from '../../../../clients/engine/rng.js';
import { loadDataset, type VectorDataset } from '../../../../clients/vector/dataset.js';
import { bruteForce } from '../../../../clients/vector/ground-truth.js';
import { VectorData, VectorFilter, VectorQueries, type VectorSettings } from '../../../../clients/vector/schema.js';
import { encodeVecs } from '../../../../clients/vector/vecs-file.js';

const dir = mkdtempSync(join(tmpdir(), 'aifb-truth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function settings(over: Partial<VectorSettings> = {}): VectorSettings {
  return {
    dimension: 4,
    metric: 'l2',
    data: VectorData.parse({ count: 300, seed: 3 }),
    queries: VectorQueries.parse({ count: 40 }),
    searchK: 5,
    batchSize: 1,
    queryBatch: 1,
    operationMix: { search: 1 },
    ...over,
  };
}

/** Exact top-k over what the dataset holds now, from scratch, for query q. */
function exact(ds: VectorDataset, q: number, live: Map<number, Float32Array>, k: number, filterLabel?: number): number[] {
  const ids = [...live.keys()].filter((id) => filterLabel === undefined || ds.labels!.of(id) === filterLabel);
  const rows = new Float32Array(ids.length * ds.dimension);
  ids.forEach((id, i) => rows.set(live.get(id)!, i * ds.dimension));
  return bruteForce(ds.queries, q * ds.dimension, [{ vectors: rows, rows: ids.length, idOf: (r) => ids[r] }], ds.dimension, ds.score, k).ids;
}

describe('loadDataset', () => {
  it('generates the same vectors, queries and labels for the same seed, and different ones for another', () => {
    const a = loadDataset(settings({ filter: VectorFilter.parse({ labels: 4 }) }));
    const b = loadDataset(settings({ filter: VectorFilter.parse({ labels: 4 }) }));
    const c = loadDataset(settings({ data: VectorData.parse({ count: 300, seed: 4 }) }));
    expect(a.base).toEqual(b.base);
    expect(a.queries).toEqual(b.queries);
    expect(a.base).not.toEqual(c.base);
    expect(a.base.buffer).toBeInstanceOf(SharedArrayBuffer);
    const labels = Array.from({ length: 300 }, (_, id) => a.labels!.of(id));
    // Four labels, each near a quarter of the vectors.
    for (let l = 0; l < 4; l++) expect(labels.filter((x) => x === l).length).toBeGreaterThan(50);
    expect(a.groundTruth).toBe('brute force');
    expect(a.sampled).toBe(false);
  });

  it('scores a seeded sample of the queries when asked, and says so', () => {
    const ds = loadDataset(settings({ queries: VectorQueries.parse({ count: 40, sample: 10 }) }));
    expect(ds.truth.scored).toHaveLength(10);
    expect(ds.sampled).toBe(true);
    expect(new Set(ds.truth.scored).size).toBe(10);
  });

  it('reads base, queries and ground truth from files, and refuses a ground truth beyond the loaded base', () => {
    const ds = loadDataset(settings());
    const write = (name: string, bytes: Buffer) => {
      writeFileSync(join(dir, name), bytes);
      return join(dir, name);
    };
    const baseFile = write('base.fvecs', encodeVecs('fvecs', 4, ds.base));
    const queryFile = write('query.fvecs', encodeVecs('fvecs', 4, ds.queries));
    const gt = Array.from({ length: 40 }, (_, q) => bruteForce(ds.queries, q * 4, [{ vectors: ds.base, rows: 300 }], 4, ds.score, 8).ids).flat();
    const gtFile = write('gt.ivecs', encodeVecs('ivecs', 8, gt));
    const fromFiles = loadDataset(settings({ data: VectorData.parse({ file: baseFile }), queries: VectorQueries.parse({ file: queryFile, groundTruth: gtFile }) }));
    expect(fromFiles.count).toBe(300);
    expect(fromFiles.groundTruth).toBe('file');
    expect(fromFiles.truth.scored).toHaveLength(40);
    const token = fromFiles.truth.beginSearch();
    expect(fromFiles.truth.score(token, 7, false, gt.slice(7 * 8, 7 * 8 + 5))).toBe(1);

    expect(() => loadDataset(settings({ data: VectorData.parse({ file: baseFile, count: 100 }), queries: VectorQueries.parse({ file: queryFile, groundTruth: gtFile }) }))).toThrow(
      /workload\.queries\.groundTruth: row 0 names vector \d+, but only ids 0\.\.99 are loaded/,
    );
    expect(() => loadDataset(settings({ dimension: 8, data: VectorData.parse({ file: baseFile }), queries: VectorQueries.parse({ file: queryFile }) }))).toThrow(
      /workload\.data\.file: .*base\.fvecs holds vectors of dimension 4; workload\.dimension is 8: set it to 4/,
    );
  });

  it('computes the filtered truth over the vectors that carry the query\'s label', () => {
    const ds = loadDataset(settings({ filter: VectorFilter.parse({ labels: 3 }), operationMix: { filteredSearch: 1 } }));
    const live = new Map(Array.from({ length: 300 }, (_, id) => [id, ds.base.slice(id * 4, id * 4 + 4)] as const));
    for (const q of ds.truth.scored.slice(0, 10)) {
      const want = exact(ds, q, live, 5, ds.labels!.ofQuery(q));
      expect(want.every((id) => ds.labels!.of(id) === ds.labels!.ofQuery(q))).toBe(true);
      expect(ds.truth.score(ds.truth.beginSearch(), q, true, want, false)).toBe(1);
      // The unfiltered neighbours mostly carry other labels: as a filtered answer they miss.
      const unfiltered = exact(ds, q, live, 5);
      expect(ds.truth.score(ds.truth.beginSearch(), q, true, unfiltered, false)).toBeLessThan(1);
    }
  });
});

describe('LiveTruth', () => {
  it('after random inserts, deletes and updates, holds exactly what brute force over the live set finds', () => {
    const ds = loadDataset(settings({ filter: VectorFilter.parse({ labels: 2 }), operationMix: { search: 1, filteredSearch: 1 } }));
    const live = new Map(Array.from({ length: 300 }, (_, id) => [id, ds.base.slice(id * 4, id * 4 + 4)] as const));
    const rng = createRng(11);
    const pick = () => [...live.keys()][Math.floor(rng.next() * live.size)];
    for (let step = 0; step < 400; step++) {
      const u = rng.next();
      if (u < 0.4) {
        const { ids, vectors } = ds.pool.take(2);
        ds.truth.end(ds.truth.beginInsert(ids, vectors), true);
        ids.forEach((id, j) => live.set(id, vectors.slice(j * 4, j * 4 + 4)));
      } else if (u < 0.8) {
        const id = pick();
        ds.truth.end(ds.truth.beginDelete([id]), true);
        live.delete(id);
      } else if (u < 0.9) {
        // An update: the same id, a new vector.
        const id = pick();
        const v = ds.pool.take(1).vectors;
        ds.truth.end(ds.truth.beginInsert([id], v), true);
        live.set(id, v);
      } else {
        // A failed write changes nothing.
        const { ids, vectors } = ds.pool.take(1);
        ds.truth.end(ds.truth.beginInsert(ids, vectors), false);
      }
    }
    expect(ds.truth.liveCount).toBe(live.size);
    for (const q of ds.truth.scored) {
      const want = exact(ds, q, live, 5);
      expect(ds.truth.score(ds.truth.beginSearch(), q, false, want, false)).toBe(1);
      // One true neighbour swapped for the 6th: one miss in five.
      const off = exact(ds, q, live, 6);
      expect(ds.truth.score(ds.truth.beginSearch(), q, false, [...off.slice(0, 4), off[5]], false)).toBe(0.8);
      const label = ds.labels!.ofQuery(q);
      expect(ds.truth.score(ds.truth.beginSearch(), q, true, exact(ds, q, live, 5, label), false)).toBe(1);
    }
  });

  it('allows for an insert that overlapped the search: found or not, the answer is right', () => {
    const ds = loadDataset(settings());
    const q = ds.truth.scored[0];
    const live = new Map(Array.from({ length: 300 }, (_, id) => [id, ds.base.slice(id * 4, id * 4 + 4)] as const));
    const before = exact(ds, q, live, 5);
    const near = ds.queries.slice(q * 4, q * 4 + 4); // the query itself: the nearest there can be
    const search = ds.truth.beginSearch();
    ds.truth.end(ds.truth.beginInsert([100000], near), true);
    // The backend did not see it yet, or did: both score 1.
    expect(ds.truth.score(search, q, false, before, false)).toBe(1);
    expect(ds.truth.score(search, q, false, [100000, ...before.slice(0, 4)], false)).toBe(1);
    // A search begun after the insert was acknowledged must find it.
    expect(ds.truth.score(ds.truth.beginSearch(), q, false, before, false)).toBe(0.8);
  });

  it('allows for an update that overlapped the search: the answer may hold the old vector or the new one', () => {
    const ds = loadDataset(settings());
    const q = ds.truth.scored[0];
    const live = new Map(Array.from({ length: 300 }, (_, id) => [id, ds.base.slice(id * 4, id * 4 + 4)] as const));
    const before = exact(ds, q, live, 5);
    // A far vector moved onto the query: during the update the backend may rank it first (new) or not at all (old).
    const far = [...live.keys()].find((id) => !exact(ds, q, live, 50).includes(id))!;
    const search = ds.truth.beginSearch();
    const update = ds.truth.beginInsert([far], ds.queries.slice(q * 4, q * 4 + 4));
    expect(ds.truth.score(search, q, false, before, false)).toBe(1);
    expect(ds.truth.score(search, q, false, [far, ...before.slice(0, 4)], false)).toBe(1);
    ds.truth.end(update, true);
    // Once acknowledged before a search begins, only the new vector counts.
    expect(ds.truth.score(ds.truth.beginSearch(), q, false, [far, ...before.slice(0, 4)], false)).toBe(1);
    expect(ds.truth.score(ds.truth.beginSearch(), q, false, before, false)).toBe(0.8);
  });

  it('scores a query once per point unless its truth changed', () => {
    const ds = loadDataset(settings());
    const q = ds.truth.scored[0];
    const live = new Map(Array.from({ length: 300 }, (_, id) => [id, ds.base.slice(id * 4, id * 4 + 4)] as const));
    const ans = exact(ds, q, live, 5);
    expect(ds.truth.score(ds.truth.beginSearch(), q, false, ans)).toBe(1);
    expect(ds.truth.score(ds.truth.beginSearch(), q, false, ans)).toBeUndefined();
    ds.truth.resetScoring();
    expect(ds.truth.score(ds.truth.beginSearch(), q, false, ans)).toBe(1);
    ds.truth.end(ds.truth.beginInsert([100000], ds.queries.slice(q * 4, q * 4 + 4)), true);
    expect(ds.truth.score(ds.truth.beginSearch(), q, false, ans)).toBe(0.8);
    // A query not in the scored sample is never scored.
    const sampled = loadDataset(settings({ queries: VectorQueries.parse({ count: 40, sample: 5 }) }));
    const unscored = Array.from({ length: 40 }, (_, i) => i).find((i) => !sampled.truth.scored.includes(i))!;
    expect(sampled.truth.score(sampled.truth.beginSearch(), unscored, false, [0, 1, 2, 3, 4])).toBeUndefined();
  });
});
