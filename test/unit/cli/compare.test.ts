import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCompare } from '../../../controller/cli/compare.js';
import { collectRun } from '../../../monitoring/results/merge.js';
import { ResultsDb } from '../../../monitoring/results/results-db.js';
import { latencies, writeRank } from '../monitoring/rank-fixtures.js';
import { capture } from './fixtures.js';

let state: string;

/** A collected run: rank files and spec.json in <state>/runs/<bench>/<runId>, its row in results.db. */
async function addRun(db: ResultsDb, bench: string, runId: string, day: number, seeds: [number, number], scaleUs: number, rate: number): Promise<void> {
  const runDir = join(state, 'runs', bench, runId);
  const startedAt = `2025-01-0${day}T12:00:00.000Z`;
  await writeRank(runDir, { rank: 0, runId, startedAt, ops: { read: latencies(seeds[0], 3000, scaleUs), write: latencies(seeds[1], 1000, 3 * scaleUs) } });
  await writeFile(join(runDir, 'spec.json'), JSON.stringify({ benchmark: bench, runId, load: { mode: 'open', rate, duration: '10s' }, ranks: 1 }));
  const m = /-g(\d+)-a(\d+)$/.exec(runId)!;
  db.saveRun(await collectRun(runDir, { runId, benchmark: bench, generation: Number(m[1]), attempt: Number(m[2]) }), {});
}

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'aifb-cli-compare-'));
  const db = new ResultsDb(join(state, 'results.db'));
  try {
    await addRun(db, 'fs-load', 'fs-load-g1-a1', 4, [1, 2], 1000, 50);
    // 40% slower.
    await addRun(db, 'fs-load', 'fs-load-g2-a1', 5, [3, 4], 1400, 50);
    // The first run's distribution again, other seeds, at another rate.
    await addRun(db, 'fs-load', 'fs-load-g3-a1', 6, [5, 6], 1000, 100);
  } finally {
    db.close();
  }
});
afterAll(async () => {
  await rm(state, { recursive: true, force: true });
});

const compare = async (runA: string, runB: string, extra: { output?: 'table' | 'json' | 'yaml'; seed?: number } = {}) => {
  const io = capture();
  const code = await runCompare({ stateDir: state, runA, runB, ...extra }, io);
  return { code, ...io };
};

/** The table row of an operation and metric, split on its column gaps. */
const tableRow = (out: string, op: string, metric: string) => {
  const line = out.split('\n').find((l) => new RegExp(`^${op}\\s+${metric}\\s`).test(l));
  if (!line) throw new Error(`no row ${op} ${metric} in:\n${out}`);
  return line.split(/\s{2,}/);
};

describe('aifbctl compare', () => {
  it('calls a run from a slower distribution slower, in a plain-text table with intervals', async () => {
    const { code, out, err } = await compare('fs-load~2', 'fs-load~1');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^A: fs-load-g1-a1 {2}\(benchmark fs-load, started 2025-01-04T12:00:00\.000Z, 4000 requests\)$/m);
    expect(out).toMatch(/^B: fs-load-g2-a1 /m);
    expect(out).toMatch(/^OPERATION\s+METRIC\s+A\s+B\s+DELTA\s+DELTA%\s+95% CI OF DELTA\s+VERDICT$/m);
    for (const op of ['all', 'read', 'write']) {
      for (const metric of ['p50', 'p99']) {
        const cells = tableRow(out, op, metric);
        expect(cells[7], `${op} ${metric}`).toBe('slower');
        // The interval is [+low, +high]: above 0.
        expect(cells[6]).toMatch(/^\[\+[\d.]+m?s, \+[\d.]+m?s\]$/);
        expect(cells[5]).toMatch(/^\+\d+\.\d%$/);
      }
    }
    expect(tableRow(out, 'all', 'requests')).toEqual(['all', 'requests', '4000', '4000', '0', '0.0%', '-', '-']);
    expect(out).toMatch(/^Overall: B \(fs-load-g2-a1\) is slower than A \(fs-load-g1-a1\): median and p99 both slower\.$/m);
    expect(out).toMatch(/^Intervals: 1000 bootstrap resamples, seed 1, 95% percentile intervals of B - A\. Each resample draws as many values as the run recorded \(A 4000, B 4000 for "all"\), no cap/m);
    expect(out).not.toMatch(/load settings differ/);
    // Plain text: no terminal escapes, even though stdout is no TTY here.
    expect(out).not.toMatch(/\x1b\[/);
  });

  it('finds no significant difference between draws of one distribution, and warns that the load differed', async () => {
    const { code, out } = await compare('fs-load-g1-a1', 'fs-load');
    expect(code).toBe(0);
    expect(out).toMatch(/^B: fs-load-g3-a1 /m);
    expect(out).toMatch(/^Warning: the runs' load settings differ \(load\.rate 50 -> 100\)/m);
    expect(tableRow(out, 'all', 'p50')[7]).toBe('no significant difference');
    expect(tableRow(out, 'all', 'p99')[7]).toBe('no significant difference');
    expect(out).toMatch(/^Overall: no significant difference between B \(fs-load-g3-a1\) and A \(fs-load-g1-a1\) in latency/m);
  });

  it('prints the same thing twice (a fixed seed), and another seed moves the intervals', async () => {
    const one = await compare('fs-load~2', 'fs-load~1');
    const two = await compare('fs-load~2', 'fs-load~1');
    expect(two.out).toBe(one.out);
    const other = await compare('fs-load~2', 'fs-load~1', { seed: 7 });
    expect(other.out).not.toBe(one.out);
    expect(other.out).toMatch(/seed 7/);
  });

  it('gives the comparison as JSON for scripts', async () => {
    const { code, out } = await compare('fs-load~1', 'fs-load~2', { output: 'json' });
    expect(code).toBe(0);
    const doc = JSON.parse(out);
    expect(doc.a.runId).toBe('fs-load-g2-a1');
    expect(doc.b.runId).toBe('fs-load-g1-a1');
    expect(doc.overall.verdict).toBe('faster');
    expect(doc.bootstrap).toMatchObject({ available: true, resamples: 1000, seed: 1, confidence: 0.95 });
    const p99 = doc.rows.find((r: { operation: string; metric: string }) => r.operation === 'all' && r.metric === 'p99');
    expect(p99.ci.high).toBeLessThan(0);
    expect(p99.verdict).toBe('faster');
    expect(doc.loadDifferences).toEqual([]);
  });

  it('says which runs exist when a reference names none', async () => {
    const missing = await compare('nope', 'fs-load');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no run id or benchmark "nope".*benchmarks with runs: fs-load/);
    const tooFar = await compare('fs-load~3', 'fs-load');
    expect(tooFar.code).toBe(1);
    expect(tooFar.err).toMatch(/fs-load~3 does not exist: benchmark fs-load has 3 run\(s\).*known runs: fs-load-g3-a1, fs-load-g2-a1, fs-load-g1-a1/);
  });

  it('fails clearly on a state folder that does not exist', async () => {
    const io = capture();
    expect(await runCompare({ stateDir: join(state, 'missing'), runA: 'a', runB: 'b' }, io)).toBe(1);
    expect(io.err).toMatch(/state folder .*missing does not exist; point --state/);
  });
});
