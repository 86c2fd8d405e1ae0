import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../../clients/engine/rng.js';
import { bootstrapQuantileDifference, distributionOf, quantileOf, rankAt, resampledQuantile } from '../../../monitoring/results/bootstrap.js';
import { compareRuns, loadDifferences, readRunDistributions, type ComparedRun } from '../../../monitoring/results/compare.js';
import { collectRun } from '../../../monitoring/results/merge.js';
import { histogramOf, latencies, writeRank, type RankFixture } from './rank-fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aifb-compare-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A run folder of the given ranks, collected and with its histograms read back. */
async function run(runId: string, ranks: Omit<RankFixture, 'rank' | 'runId'>[]): Promise<ComparedRun> {
  const runDir = join(dir, runId);
  for (const [rank, f] of ranks.entries()) await writeRank(runDir, { ...f, rank, runId });
  const result = await collectRun(runDir, { runId, benchmark: 'bench', generation: 1, attempt: 1 });
  return { result, distributions: await readRunDistributions(runDir) };
}

/** ttft values in ms, spread like latencies(). */
const ttft = (seed: number, n: number, scaleMs: number) => latencies(seed, n, scaleMs * 1000).map((us) => us / 1000);

const row = (c: ReturnType<typeof compareRuns>, operation: string, metric: string) => {
  const r = c.rows.find((x) => x.operation === operation && x.metric === metric);
  if (!r) throw new Error(`no row ${operation}/${metric}`);
  return r;
};

describe('distributionOf and quantileOf', () => {
  it('gives the percentiles HDR reports, for the same histogram', () => {
    const h = histogramOf(latencies(5, 5000, 800));
    const d = distributionOf(h, 1000);
    expect(d.total).toBe(5000);
    for (const p of [0.1, 1, 25, 50, 90, 99, 99.9, 100]) expect(quantileOf(d, p)).toBe(h.getValueAtPercentile(p) / 1000);
  });

  it('counts ranks as HDR does: rounded up, at least 1', () => {
    expect(rankAt(50, 1000)).toBe(500);
    expect(rankAt(99, 1000)).toBe(990);
    expect(rankAt(50, 3)).toBe(2);
    expect(rankAt(1, 10)).toBe(1);
    expect(rankAt(0, 10)).toBe(1);
  });
});

describe('resampledQuantile', () => {
  it('has the distribution of sorting n draws with replacement (the brute-force bootstrap)', () => {
    const h = histogramOf(latencies(9, 2000, 1000));
    const d = distributionOf(h, 1000);
    const n = d.total;
    const values = Array.from(d.values);
    const counts = Array.from(d.cumulative, (c, i) => c - (i === 0 ? 0 : d.cumulative[i - 1]));
    const pool = values.flatMap((v, i) => new Array<number>(counts[i]).fill(v));
    const stats = (xs: number[]) => {
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      return { mean, sd: Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) };
    };
    for (const p of [50, 99]) {
      const rng = createRng(3);
      const fast: number[] = [];
      const brute: number[] = [];
      for (let b = 0; b < 400; b++) {
        fast.push(resampledQuantile(d, p, n, rng));
        const draw = Array.from({ length: n }, () => pool[Math.floor(rng.next() * n)]).sort((x, y) => x - y);
        brute.push(draw[rankAt(p, n) - 1]);
      }
      const f = stats(fast);
      const s = stats(brute);
      // Means within a fraction of a standard deviation, spreads within a third of each other.
      expect(Math.abs(f.mean - s.mean)).toBeLessThan(0.25 * s.sd + 1e-9);
      expect(f.sd / s.sd).toBeGreaterThan(0.75);
      expect(f.sd / s.sd).toBeLessThan(1.33);
    }
  });

  it('is deterministic for a seed and moves with it', () => {
    const a = distributionOf(histogramOf(latencies(1, 3000)), 1000);
    const b = distributionOf(histogramOf(latencies(2, 3000, 1100)), 1000);
    const one = bootstrapQuantileDifference(a, b, 99, { seed: 1, stream: 'x' });
    expect(bootstrapQuantileDifference(a, b, 99, { seed: 1, stream: 'x' })).toEqual(one);
    expect(bootstrapQuantileDifference(a, b, 99, { seed: 2, stream: 'x' })).not.toEqual(one);
  });
});

describe('compareRuns', () => {
  let base: ComparedRun;
  let slower: ComparedRun;
  let same: ComparedRun;
  beforeAll(async () => {
    base = await run('base', [{ ops: { read: latencies(1, 4000, 1000), write: latencies(2, 1000, 3000) }, metrics: { read: { ttft: ttft(3, 500, 20) } } }]);
    // 40% slower everywhere, the same number of requests.
    slower = await run('slower', [{ ops: { read: latencies(11, 4000, 1400), write: latencies(12, 1000, 4200) }, metrics: { read: { ttft: ttft(13, 500, 28) } } }]);
    // The same distributions drawn with other seeds, split over two ranks.
    same = await run('same', [
      { ops: { read: latencies(21, 2000, 1000), write: latencies(22, 500, 3000) }, metrics: { read: { ttft: ttft(23, 250, 20) } } },
      { ops: { read: latencies(31, 2000, 1000), write: latencies(32, 500, 3000) }, metrics: { read: { ttft: ttft(33, 250, 20) } } },
    ]);
  });

  it('calls B slower when its latencies come from a slower distribution, with an interval above 0', () => {
    const c = compareRuns(base, slower);
    for (const op of ['all', 'read', 'write']) {
      for (const metric of ['p50', 'p99']) {
        const r = row(c, op, metric);
        expect(r.verdict, `${op} ${metric}`).toBe('slower');
        expect(r.ci!.low).toBeGreaterThan(0);
        expect(r.ci!.low).toBeLessThanOrEqual(r.delta!);
        expect(r.ci!.high).toBeGreaterThanOrEqual(r.delta!);
      }
    }
    expect(row(c, 'read', 'ttft p50').verdict).toBe('slower');
    expect(c.overall).toMatchObject({ operation: 'all', verdict: 'slower' });
    expect(row(c, 'all', 'p50').deltaPercent).toBeGreaterThan(20);
  });

  it('calls the other direction faster, with an interval below 0', () => {
    const c = compareRuns(slower, base);
    expect(row(c, 'all', 'p50').verdict).toBe('faster');
    expect(row(c, 'all', 'p50').ci!.high).toBeLessThan(0);
    expect(row(c, 'all', 'p99').verdict).toBe('faster');
    expect(c.overall.verdict).toBe('faster');
  });

  it('finds no significant difference between two draws of the same distribution', () => {
    const c = compareRuns(base, same);
    for (const op of ['all', 'read', 'write']) {
      for (const metric of ['p50', 'p99']) {
        const r = row(c, op, metric);
        expect(r.verdict, `${op} ${metric}`).toBe('no significant difference');
        expect(r.ci!.low).toBeLessThanOrEqual(0);
        expect(r.ci!.high).toBeGreaterThanOrEqual(0);
      }
    }
    expect(c.overall.verdict).toBe('no significant difference');
    // Two ranks were merged: every request of "same" is in its "all" histogram.
    expect(c.bootstrap.draws).toEqual({ a: 5000, b: 5000 });
  });

  it('gives the same comparison twice, and rows every operation and timing metric', () => {
    const one = compareRuns(base, slower);
    expect(compareRuns(base, slower)).toEqual(one);
    expect(one.rows.filter((r) => r.operation === 'read').map((r) => r.metric)).toEqual(['requests', 'throughput', 'mean', 'p50', 'p99', 'ttft p50', 'ttft p99']);
    expect(one.rows.filter((r) => r.operation === 'all').map((r) => r.metric)).toContain('ttft p99');
    const requests = row(one, 'write', 'requests');
    expect(requests).toMatchObject({ a: 1000, b: 1000, delta: 0, deltaPercent: 0 });
    expect(requests.verdict).toBeUndefined();
    expect(row(one, 'all', 'p99')).toMatchObject({ a: base.result.latencyMs.p99, b: slower.result.latencyMs.p99 });
  });

  it('still shows deltas, without intervals, when a run has no histograms', () => {
    const c = compareRuns({ result: base.result }, slower);
    expect(c.bootstrap.available).toBe(false);
    expect(row(c, 'all', 'p50').ci).toBeUndefined();
    expect(row(c, 'all', 'p50').delta).toBeCloseTo(slower.result.latencyMs.p50 - base.result.latencyMs.p50, 9);
    expect(c.warnings.join('\n')).toMatch(/run A \(base\) has no histograms/);
  });

  it('says when an operation ran in only one run', async () => {
    const readOnly = await run('read-only', [{ ops: { read: latencies(41, 1000) } }]);
    const c = compareRuns(base, readOnly);
    expect(c.warnings).toContain('operation write ran only in run A');
    expect(row(c, 'write', 'p50')).toMatchObject({ a: base.result.operations.write.latencyMs.p50, b: null, delta: null });
  });
});

describe('loadDifferences', () => {
  it('names each load setting that differs, and nothing when they match', () => {
    const a = { load: { mode: 'open', rate: 50, duration: '30s' }, ranks: 1, workload: { type: 'x' } };
    expect(loadDifferences(a, { ...a, workload: { type: 'y' } })).toEqual([]);
    expect(loadDifferences(a, { load: { mode: 'open', rate: 100, duration: '30s', warmup: '5s' }, ranks: 2 })).toEqual([
      'load.rate 50 -> 100',
      'load.warmup <none> -> "5s"',
      'ranks 1 -> 2',
    ]);
  });
});
