// Runs the real runner process (built with tsc) on a temp folder with a small
// file-storage load, and checks the files and exit codes the controller relies on.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeHistogram } from '../../../clients/engine/histogram.js';
import { writeReports } from '../../../monitoring/reports/index.js';
import { summarize } from '../../../monitoring/results/merge.js';
import { collectResults } from '../../../monitoring/results/sweep.js';
import { startTogether } from '../../../clients/runner/rank-sync.js';
import { runRunner } from '../../../clients/runner/run.js';
import { readSpec } from '../../../clients/runner/spec.js';
import { systemClock } from '../../../clients/engine/clock.js';
import { RUNNER_EXIT, type RankDone, type RankHistograms, type RankSummary, type RunnerLine, type TimeSeriesRow } from '../../../api/runner-contract.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = join(ROOT, 'dist/clients/runner/main.js');
let tmp: string;

beforeAll(() => {
  // `npm test` builds before it tests; a bare vitest run needs `npm run build` first.
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
});

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'aifb-runner-test-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  lines: RunnerLine[];
  stderr: string;
}

function runner(args: string[], opts: { env?: Record<string, string>; onLine?: (l: RunnerLine, kill: () => void) => void } = {}): Promise<Result> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: RunnerLine[] = [];
    let buf = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, i)) as RunnerLine;
        buf = buf.slice(i + 1);
        lines.push(line);
        opts.onLine?.(line, () => child.kill('SIGTERM'));
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code, lines, stderr }));
  });
}

async function writeSpec(name: string, over: { workload?: object; load?: object; ranks?: number; threads?: number } = {}) {
  const dir = join(tmp, name);
  const spec = {
    benchmark: 'fs-test',
    runId: name,
    ranks: over.ranks ?? 1,
    ...(over.threads ? { threads: over.threads } : {}),
    workload: { type: 'file-storage', basePath: join(dir, 'data'), fsync: false, operationMix: { write: 4, read: 4, stat: 1, delete: 1 }, fileSizes: { '4KB': 3, '16KB': 1 }, prefill: 8, ...over.workload },
    load: { mode: 'closed', workers: 2, arrival: 'constant', burstiness: 1, concurrency: 8, duration: '1500ms', warmup: '300ms', seed: 1, ...over.load },
  };
  const specPath = join(dir, 'spec.json');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(specPath, JSON.stringify(spec));
  return { dir, specPath, out: join(dir, 'out') };
}

const readJson = async <T>(path: string) => JSON.parse(await readFile(path, 'utf8')) as T;

describe('runner process', () => {
  it('runs a file-storage load and leaves consistent result files', async () => {
    const { dir, specPath, out } = await writeSpec('ok');
    const r = await runner(['--spec', specPath, '--out', out], { env: { SLURM_PROCID: '0' } });
    // No diagnostics: the log holds only the end-of-run summary, laid out as vLLM's.
    expect(r.stderr).not.toContain('aifb-runner:');
    expect(r.stderr).toMatch(/^=+ file-storage result, rank 0 =+\nSuccessful requests:\s+\d+\nFailed requests:\s+0\n/);
    expect(r.stderr).toMatch(/^Ended by:\s+duration$/m);
    expect(r.code).toBe(RUNNER_EXIT.ok);
    expect(r.lines[0]).toMatchObject({ event: 'started', rank: 0, runId: 'ok' });
    expect(r.lines.at(-1)).toEqual({ event: 'done', rank: 0, exitCode: 0 });
    expect(r.lines.filter((l) => l.event === 'progress').length).toBeGreaterThanOrEqual(1);

    expect((await readdir(out)).sort()).toEqual(['rank-0.done.json', 'rank-0.histograms.json', 'rank-0.summary.json', 'rank-0.timeseries.json']);
    const summary = await readJson<RankSummary>(join(out, 'rank-0.summary.json'));
    const ops = Object.values(summary.operations);
    expect(summary.stopReason).toBe('duration');
    expect(summary.warmupMs).toBe(300);
    expect(summary.measuredMs).toBeGreaterThanOrEqual(1500);
    expect(summary.totals.requests).toBeGreaterThan(0);
    expect(summary.totals.requests).toBe(ops.reduce((s, o) => s + o.requests, 0));
    expect(summary.totals.errors).toBe(ops.reduce((s, o) => s + o.errors, 0));
    // Bytes are a declared metric of file-storage: written and read, never stat or delete.
    expect(summary.metrics.map((m) => m.name)).toEqual(['bytes']);
    expect(summary.operations.write.metrics.bytes.sum).toBeGreaterThan(0);
    expect(summary.operations.stat?.metrics.bytes).toBeUndefined();
    expect(Date.parse(summary.measureStartedAt) - Date.parse(summary.startedAt)).toBe(300);

    const hist = await readJson<RankHistograms>(join(out, 'rank-0.histograms.json'));
    expect(Object.keys(hist.latency).sort()).toEqual(['all', 'delete', 'read', 'stat', 'write']);
    expect(decodeHistogram(hist.latency.all).totalCount).toBe(summary.totals.requests - summary.totals.errors);
    for (const [name, t] of Object.entries(summary.operations)) expect(decodeHistogram(hist.latency[name]).totalCount).toBe(t.requests - t.errors);
    expect(decodeHistogram(hist.metrics.write.bytes).totalCount).toBe(summary.operations.write.metrics.bytes.count);

    const rows = await readJson<TimeSeriesRow[]>(join(out, 'rank-0.timeseries.json'));
    expect(rows.map((x) => x.second)).toEqual(rows.map((_, i) => i));
    expect(rows[0].warmup).toBe(true);
    expect(rows.length).toBeLessThanOrEqual(3);
    expect(rows.reduce((s, x) => s + x.requests, 0)).toBeGreaterThan(summary.totals.requests);

    expect(await readJson<RankDone>(join(out, 'rank-0.done.json'))).toMatchObject({ rank: 0, exitCode: 0 });
    // The client cleaned up its own folder.
    expect(await readdir(join(dir, 'data'))).toEqual([]);
  });

  it('runs a sweep point by point, each in its own folder, merged into one row per point and a CSV curve', async () => {
    const { out } = await writeSpec('sweep', { load: { duration: '400ms', warmup: '0ms', sweep: { concurrencies: [1, 3] } } });
    const r = await runner(['--spec', out.replace(/out$/, 'spec.json'), '--out', out], { env: { SLURM_PROCID: '0' } });
    expect(r.code).toBe(RUNNER_EXIT.ok);
    expect(r.stderr).toMatch(/^sweep point 0 \(1 workers\)\n=+ file-storage result, rank 0, point 0 =+$/m);
    expect(r.stderr).toMatch(/^sweep ended: every point ran$/m);
    expect(await readJson(join(out, 'rank-0.sweep.json'))).toEqual({
      points: [
        { index: 0, dir: 'points/0', workers: 1 },
        { index: 1, dir: 'points/1', workers: 3 },
      ],
      ended: 'every point ran',
    });
    const result = await collectResults(out, { runId: 'sweep', benchmark: 'fs-test', generation: 1, attempt: 1 });
    const rows = result.sweep!.points;
    expect(rows.map((p) => p.workers)).toEqual([1, 3]);
    expect(rows.every((p) => p.requests > 0 && p.perSecond.bytes > 0)).toBe(true);
    // Without an SLO, the result describes the point with the highest throughput.
    const best = rows.reduce((a, b) => (b.throughput > a.throughput ? b : a));
    expect(result.sweep!.primary).toBe(best.index);
    expect(result.summary.throughput).toBe(best.throughput);
    expect(summarize(result).sweep).toEqual({ points: 2, ended: 'every point ran', primary: best.index, at: `${best.workers} workers` });
    const reports = await writeReports(result, join(out, 'reports'), ['csv']);
    const csv = (await readFile(reports.csvSweep!, 'utf8')).trim().split('\r\n');
    expect(csv).toHaveLength(3);
    expect(csv[0]).toMatch(/^run_id,benchmark,point,rate,workers,requests,failed,dropped,duration_s,throughput,goodput,p50_ms,p99_ms,p99_ms_failures_as_inf,bytes_per_second,slo_passed,kept_up,ended_by,primary$/);
    expect(csv[1]).toMatch(/^sweep,fs-test,0,,1,\d+,0,0,/);
  });

  it('stops on SIGTERM with partial results and exit code 4', async () => {
    const { specPath, out } = await writeSpec('term', { load: { mode: 'open', rate: 200, duration: '60s', warmup: 0 } });
    let sent = false;
    const r = await runner(['--spec', specPath, '--out', out, '--rank', '0'], {
      onLine: (l, kill) => {
        if (l.event === 'progress' && !sent) {
          sent = true;
          kill();
        }
      },
    });
    expect(r.code).toBe(RUNNER_EXIT.interrupted);
    expect(r.stderr).toMatch(/SIGTERM received/);
    expect(r.lines.at(-1)).toMatchObject({ event: 'done', exitCode: RUNNER_EXIT.interrupted });
    const done = await readJson<RankDone>(join(out, 'rank-0.done.json'));
    expect(done.exitCode).toBe(RUNNER_EXIT.interrupted);
    const summary = await readJson<RankSummary>(join(out, 'rank-0.summary.json'));
    expect(summary.stopReason).toBe('signal');
    expect(summary.totals.requests).toBeGreaterThan(0);
    expect(summary.measuredMs).toBeLessThan(30_000);
    const hist = await readJson<RankHistograms>(join(out, 'rank-0.histograms.json'));
    expect(decodeHistogram(hist.latency.all).totalCount).toBe(summary.totals.requests - summary.totals.errors);
    expect(existsSync(join(out, 'rank-0.timeseries.json'))).toBe(true);
  });

  it('rejects a bad spec with exit code 2, naming the fields', async () => {
    const { specPath, out } = await writeSpec('bad', { workload: { fileSizes: { '4XB': 1 } }, load: { mode: 'open' } });
    const r = await runner(['--spec', specPath, '--out', out]);
    expect(r.code).toBe(RUNNER_EXIT.config);
    expect(r.stderr).toMatch(/load\.rate: open loop needs a rate/);
    const done = await readJson<RankDone>(join(out, 'rank-0.done.json'));
    expect(done.exitCode).toBe(RUNNER_EXIT.config);

    const { specPath: s2, out: o2 } = await writeSpec('bad2', { workload: { fileSizes: { '4XB': 1 } } });
    const r2 = await runner(['--spec', s2, '--out', o2]);
    expect(r2.code).toBe(RUNNER_EXIT.config);
    expect(r2.stderr).toMatch(/workload\.fileSizes\["4XB"\]/);
  });

  it('rejects a missing --spec and a rank beyond the spec', async () => {
    const r = await runner(['--out', join(tmp, 'x')]);
    expect(r.code).toBe(RUNNER_EXIT.config);
    expect(r.stderr).toMatch(/--spec is required/);
    const { specPath, out } = await writeSpec('rank', { ranks: 2 });
    const r2 = await runner(['--spec', specPath, '--out', out], { env: { SLURM_PROCID: '5' } });
    expect(r2.code).toBe(RUNNER_EXIT.config);
    expect(r2.stderr).toMatch(/rank 5 is out of range/);
  });

  it('exits 3 when the client cannot set up', async () => {
    const { dir, specPath, out } = await writeSpec('setup');
    await writeFile(join(dir, 'plainfile'), 'x');
    const spec = JSON.parse(await readFile(specPath, 'utf8'));
    spec.workload.basePath = join(dir, 'plainfile', 'below');
    await writeFile(specPath, JSON.stringify(spec));
    const r = await runner(['--spec', specPath, '--out', out]);
    expect(r.code).toBe(RUNNER_EXIT.setup);
    expect(r.stderr).toMatch(/file-storage setup failed/);
    expect(await readJson<RankDone>(join(out, 'rank-0.done.json'))).toMatchObject({ exitCode: RUNNER_EXIT.setup });
  });
});

describe('runner ranks in step', () => {
  it('starts ranks launched at different times together, once the last has set up', async () => {
    const { specPath, out } = await writeSpec('together', { ranks: 3, load: { duration: '600ms', warmup: '0ms' } });
    const started: number[] = [];
    const runs: Promise<Result>[] = [];
    for (let rank = 0; rank < 3; rank++) {
      started.push(Date.now());
      runs.push(runner(['--spec', specPath, '--out', out, '--rank', String(rank)]));
      if (rank < 2) await new Promise((r) => setTimeout(r, 1500));
    }
    const results = await Promise.all(runs);
    expect(results.map((r) => r.code)).toEqual([0, 0, 0]);
    const summaries = await Promise.all([0, 1, 2].map((r) => readJson<RankSummary>(join(out, `rank-${r}.summary.json`))));
    const starts = summaries.map((s) => Date.parse(s.startedAt));
    // Nobody started before the last rank was launched (3 s after the first), and they started together.
    for (const t of starts) expect(t).toBeGreaterThanOrEqual(started[2]);
    expect(Math.max(...starts) - Math.min(...starts)).toBeLessThan(250);
    const merged = await collectResults(out, { runId: 'together', benchmark: 'fs-test', generation: 1, attempt: 1 });
    expect(merged.ranksInStep).toMatchObject({ startSkewMs: Math.max(...starts) - Math.min(...starts), stonewalled: 0 });
    expect(summarize(merged).startSkewMs).toBe(merged.ranksInStep!.startSkewMs);
  }, 30_000);

  it('with a stonewall, stops when another rank says it finished its share', async () => {
    // Rank 1 is played by the test: ready at once, finished once rank 0 is under way.
    const { specPath, out } = await writeSpec('stonewall', { ranks: 2, load: { duration: '60s', warmup: '0ms', stonewall: true } });
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'rank-1.ready.json'), JSON.stringify({ readyAt: Date.now() }));
    const r = await runner(['--spec', specPath, '--out', out, '--rank', '0'], {
      onLine: (line) => {
        if (line.event === 'progress' && line.elapsedMs >= 1000) void writeFile(join(out, 'rank-1.finished'), '');
      },
    });
    expect(r.code).toBe(RUNNER_EXIT.ok);
    const summary = await readJson<RankSummary>(join(out, 'rank-0.summary.json'));
    expect(summary.stopReason).toBe('stonewall');
    expect(summary.measuredMs).toBeLessThan(5000);
  }, 30_000);

  it('gives up waiting for a rank that never sets up, naming it', async () => {
    const dir = join(tmp, 'barrier-timeout');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'rank-2.ready.json'), JSON.stringify({ readyAt: Date.now() }));
    await expect(startTogether(dir, 0, 3, 300, new AbortController().signal)).rejects.toThrow(
      new RegExp(`^rank\\(s\\) 1 did not finish setup within 0 s, so the ranks cannot start together; .* or that ${dir} is the same shared folder on every node$`),
    );
  });

  it('stopped while it waits for the others, leaves no results and says why', async () => {
    const { specPath, out } = await writeSpec('missing-rank', { ranks: 2, load: { duration: '1s' } });
    const r = await runner(['--spec', specPath, '--out', out, '--rank', '0'], {
      onLine: (line, kill) => {
        if (line.event === 'started') setTimeout(kill, 500);
      },
    });
    expect(r.code).toBe(RUNNER_EXIT.interrupted);
    expect(r.lines.at(-1)).toEqual({ event: 'done', rank: 0, exitCode: RUNNER_EXIT.interrupted, reason: 'stopped by signal while waiting for the other ranks; no results' });
    expect(existsSync(join(out, 'rank-0.summary.json'))).toBe(false);
  }, 30_000);
});

describe('runner threads', () => {
  it('a rank runs the spec its process read, without reading the file again', async () => {
    const { specPath, out } = await writeSpec('read-once', { load: { maxRequests: 20, duration: undefined, warmup: '0ms' } });
    const read = await readSpec(specPath);
    // Gone before the rank starts: the rank must not need it.
    await rm(specPath);
    const warnings: string[] = [];
    const code = await runRunner({ specPath, read, outDir: out, rank: 0, clock: systemClock, signal: new AbortController().signal, emit: () => {}, warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    expect(code).toBe(RUNNER_EXIT.ok);
    expect((await readJson<RankSummary>(join(out, 'rank-0.summary.json'))).totals.requests).toBe(20);
  });

  it('runs ranks N*T .. N*T+T-1 of process N in threads, all in step, their lines on its stdout', async () => {
    const { specPath, out } = await writeSpec('threads', { ranks: 4, threads: 2, load: { workers: 8, maxRequests: 400, duration: undefined, warmup: '0ms' } });
    const [p0, p1] = await Promise.all([0, 1].map((p) => runner(['--spec', specPath, '--out', out, '--rank', String(p)])));
    expect([p0.code, p1.code]).toEqual([0, 0]);
    const ranksIn = (r: Result) => [...new Set(r.lines.map((l) => l.rank))].sort();
    expect(ranksIn(p0)).toEqual([0, 1]);
    expect(ranksIn(p1)).toEqual([2, 3]);
    for (const r of [p0, p1]) expect(r.lines.filter((l) => l.event === 'done').map((l) => l.exitCode)).toEqual([0, 0]);
    // Each thread ran its rank's share: maxRequests / 4.
    const summaries = await Promise.all([0, 1, 2, 3].map((r) => readJson<RankSummary>(join(out, `rank-${r}.summary.json`))));
    expect(summaries.map((s) => s.totals.requests)).toEqual([100, 100, 100, 100]);
    const merged = await collectResults(out, { runId: 'threads', benchmark: 'fs-test', generation: 1, attempt: 1 });
    expect(merged.summary.total_requests).toBe(400);
    expect(merged.ranks).toBe(4);
  }, 30_000);

  it('stops every thread on SIGTERM, each with its partial results and done file', async () => {
    const { specPath, out } = await writeSpec('threads-term', { ranks: 2, threads: 2, load: { mode: 'open', rate: 200, duration: '60s', warmup: 0 } });
    const progressed = new Set<number>();
    let sent = false;
    const r = await runner(['--spec', specPath, '--out', out, '--rank', '0'], {
      onLine: (l, kill) => {
        if (l.event === 'progress') progressed.add(l.rank);
        if (progressed.size === 2 && !sent) {
          sent = true;
          kill();
        }
      },
    });
    expect(r.code).toBe(RUNNER_EXIT.interrupted);
    expect(r.stderr.match(/SIGTERM received/g)).toHaveLength(1);
    for (const rank of [0, 1]) {
      expect(await readJson<RankDone>(join(out, `rank-${rank}.done.json`))).toMatchObject({ rank, exitCode: RUNNER_EXIT.interrupted });
      const summary = await readJson<RankSummary>(join(out, `rank-${rank}.summary.json`));
      expect(summary.stopReason).toBe('signal');
      expect(summary.totals.requests).toBeGreaterThan(0);
    }
  }, 30_000);
});
