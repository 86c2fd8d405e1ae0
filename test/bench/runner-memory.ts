// Benchmark (not a test): the runner's memory over a long run and the cost of
// the results built from it (issue 13, rows 4 and 8). The runner runs as a user
// runs it, a process of its own (dist/clients/runner/main.js with a spec.json),
// the http workload in closed loop against the bench's loopback server
// (test/bench/bench-server.ts) until maxRequests; its RSS is read from /proc as it
// runs. A run ten times longer is the peer: memory that grows with requests
// shows in the ratios above 1. The peak also catches the top of V8's old-space
// sawtooth (promoted garbage until a mark-compact), which a longer run meets
// more often, so the RSS at the end and when the peak came are printed beside
// it. Then what aifb does with a finished run (merge,
// JSON/CSV/HTML/Prometheus reports, the SQLite insert) is timed on each run's
// files: they are per-second rows and histograms, so the ratio shows whether
// that cost follows the requests.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunnerLine } from '../../api/runner-contract.js';
import { Load, REPORT_FORMATS } from '../../api/schemas.js';
import { HttpWorkload } from '../../clients/http/schema.js';
import type { RunnerSpec } from '../../clients/registry.js';
import { encodeSpec } from '../../clients/runner/spec.js';
import { writeReports } from '../../monitoring/reports/index.js';
import type { RunResult } from '../../monitoring/results/model.js';
import { ResultsDb } from '../../monitoring/results/results-db.js';
import { collectResults } from '../../monitoring/results/sweep.js';
import { startServer } from './bench-server.js';

const ROOT = resolve(import.meta.dirname, '../..');
// Run from dist/test/bench (npm run bench) or from the source tree (vitest): the runner is always the built one.
const RUNNER = join(ROOT.endsWith('/dist') ? ROOT : join(ROOT, 'dist'), 'clients/runner/main.js');

export interface MemoryOptions {
  /** load.maxRequests of each run, smallest first; the last is read against the first. */
  sizes: number[];
  connections: number;
  warmup: string;
  sampleMs: number;
  /** Report builds per run, interleaved across runs; the median is printed. */
  reportRounds: number;
  /** Extra node flags for the runner (e.g. --heap-prof). */
  nodeArgs?: string[];
}

export const DEFAULTS: MemoryOptions = { sizes: [1_000_000, 10_000_000], connections: 64, warmup: '5s', sampleMs: 250, reportRounds: 5 };

export interface MemoryRow {
  maxRequests: number;
  /** Measured requests in the merged result (answered or failed). */
  requests: number;
  errors: number;
  wallS: number;
  rps: number;
  /** RSS at the first sample after the warm-up ended (the last sample if the run was shorter), MiB. */
  rssWarmMiB: number;
  /** The last sample before the runner exited (its result files written), MiB. */
  rssEndMiB: number;
  /** Highest of the samples and the kernel's high-water mark (VmHWM), MiB. */
  rssPeakMiB: number;
  /** Seconds from spawn to the sample that first saw the peak: a spike early on is no growth. */
  peakAtS: number;
  samples: number;
  timeseriesRows: number;
  /** Merge + reports + SQLite insert, median of the rounds, ms. */
  reportMs: number;
  /** The SQLite insert alone, median, ms. */
  sqliteMs: number;
  reports: Record<string, string>;
}

// Synchronous reads: a sample costs about 2 ms of CPU, where promises per /proc file cost ten
// times that, taken from the two cores the runner and the server share.

/** VmRSS and VmHWM of a process in KiB; undefined once it is gone. */
function procMem(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** The process and its descendants: a runner that forked counts with its children. */
function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat = '';
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone since the listing
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

interface RunnerRun {
  wallS: number;
  rssWarmKiB: number;
  rssEndKiB: number;
  rssPeakKiB: number;
  peakAtS: number;
  samples: number;
}

/** One runner process from spawn to exit, its RSS sampled on the way. */
async function runRunner(specPath: string, outDir: string, warmupMs: number, o: MemoryOptions): Promise<RunnerRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), RUNNER, '--spec', specPath, '--out', outDir, '--rank', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let startedAt: number | undefined;
  let stdout = '';
  // The runner writes its stdout synchronously to the pipe: read it all, or it would block.
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
    let i;
    while ((i = stdout.indexOf('\n')) >= 0) {
      const line = JSON.parse(stdout.slice(0, i)) as RunnerLine;
      stdout = stdout.slice(i + 1);
      if (line.event === 'started') startedAt = performance.now();
    }
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)));
  const exited = new Promise<number>((res, rej) => {
    child.once('error', rej);
    child.once('exit', (code) => res(code ?? 1));
  });

  let peak = 0;
  let peakAt = 0;
  let warm: number | undefined;
  let last = 0;
  let samples = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const at = performance.now();
      let rss = 0;
      for (const pid of tree(child.pid!)) rss += procMem(pid)?.rss ?? 0;
      const own = procMem(child.pid!);
      if (own && rss > 0) {
        samples++;
        last = rss;
        if (Math.max(rss, own.hwm) > peak) {
          peak = Math.max(rss, own.hwm);
          peakAt = at - t0;
        }
        if (warm === undefined && startedAt !== undefined && at >= startedAt + warmupMs) warm = rss;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, o.sampleMs - (performance.now() - at))));
    }
  })();
  const code = await exited;
  const wallS = (performance.now() - t0) / 1000;
  sampling = false;
  await sampler;
  if (code !== 0) throw new Error(`the runner exited with ${code}: ${stderr}`);
  return { wallS, rssWarmKiB: warm ?? last, rssEndKiB: last, rssPeakKiB: peak, peakAtS: peakAt / 1000, samples };
}

interface Build {
  result: RunResult;
  reports: Record<string, string>;
  totalMs: number;
  sqliteMs: number;
}

/** What the controller does with a finished run (controller/reconcile/benchmark-effects.ts, collectResults). */
async function buildReports(runDir: string, runId: string, reportsDir: string, db: ResultsDb): Promise<Build> {
  const t0 = performance.now();
  const result = await collectResults(runDir, { runId, benchmark: 'runner-memory', generation: 1, attempt: 1, service: 'bench-server' });
  const reports = await writeReports(result, reportsDir, REPORT_FORMATS);
  const t1 = performance.now();
  db.saveRun(result, reports);
  const t2 = performance.now();
  return { result, reports, totalMs: t2 - t0, sqliteMs: t2 - t1 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function measureRunnerMemory(o: MemoryOptions = DEFAULTS): Promise<MemoryRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'aifb-bench-memory-'));
  const server = await startServer();
  const db = new ResultsDb(join(dir, 'results.db'));
  try {
    const runs: (RunnerRun & { maxRequests: number; runId: string; runDir: string })[] = [];
    for (const maxRequests of o.sizes) {
      const runId = `memory-${maxRequests}`;
      const runDir = join(dir, 'runs', runId);
      await mkdir(runDir, { recursive: true });
      const load = Load.parse({ mode: 'closed', workers: o.connections, maxRequests, warmup: o.warmup });
      const spec: RunnerSpec = {
        benchmark: 'runner-memory',
        runId,
        workload: HttpWorkload.parse({ type: 'http', path: '/' }),
        load,
        service: { scheme: 'http', host: '127.0.0.1', port: server.port },
        ranks: 1,
      };
      const specPath = join(runDir, 'spec.json');
      await writeFile(specPath, JSON.stringify(encodeSpec(spec), null, 2));
      runs.push({ maxRequests, runId, runDir, ...(await runRunner(specPath, runDir, load.warmup, o)) });
    }
    // Interleaved rounds: a first build's cold JIT, or another user's burst, does not fall on one run alone.
    const builds = runs.map(() => [] as Build[]);
    for (let round = 0; round < o.reportRounds; round++) {
      for (const [i, r] of runs.entries()) builds[i].push(await buildReports(r.runDir, r.runId, join(dir, 'reports', r.runId), db));
    }
    return runs.map((r, i) => {
      const { result, reports } = builds[i][0];
      return {
        maxRequests: r.maxRequests,
        requests: result.summary.total_requests,
        errors: result.summary.failed_requests,
        wallS: r.wallS,
        rps: result.summary.throughput,
        rssWarmMiB: r.rssWarmKiB / 1024,
        rssEndMiB: r.rssEndKiB / 1024,
        rssPeakMiB: r.rssPeakKiB / 1024,
        peakAtS: r.peakAtS,
        samples: r.samples,
        timeseriesRows: result.timeseries.length,
        reportMs: median(builds[i].map((b) => b.totalMs)),
        sqliteMs: median(builds[i].map((b) => b.sqliteMs)),
        reports,
      };
    });
  } finally {
    db.close();
    server.child.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

const f = (x: number, d: number, w: number) => x.toFixed(d).padStart(w);

export function table(rows: MemoryRow[]): string[] {
  const out = ['REQUESTS    WALL_S    REQ/S  ERRORS  RSS_WARM_MIB  RSS_END_MIB  RSS_PEAK_MIB  PEAK_AT_S  SAMPLES  TS_ROWS  REPORT_MS  SQLITE_MS'];
  for (const r of rows) {
    out.push(
      `${f(r.requests, 0, 8)}  ${f(r.wallS, 1, 8)}  ${f(r.rps, 0, 7)}  ${f(r.errors, 0, 6)}  ${f(r.rssWarmMiB, 1, 12)}  ${f(r.rssEndMiB, 1, 11)}  ${f(r.rssPeakMiB, 1, 12)}  ${f(r.peakAtS, 1, 9)}  ${f(r.samples, 0, 7)}  ${f(r.timeseriesRows, 0, 7)}  ${f(r.reportMs, 1, 9)}  ${f(r.sqliteMs, 1, 9)}`,
    );
  }
  if (rows.length >= 2) {
    const [a, b] = [rows[0], rows[rows.length - 1]];
    const x = (num: number, den: number) => `x${(num / den).toFixed(2)}`;
    const n = `${b.maxRequests}/${a.maxRequests} requests (${x(b.maxRequests, a.maxRequests)})`;
    out.push(`ratio ${n}: peak RSS ${x(b.rssPeakMiB, a.rssPeakMiB)} (goal x1.00, flat), RSS after warm-up ${x(b.rssWarmMiB, a.rssWarmMiB)}, RSS at the end ${x(b.rssEndMiB, a.rssEndMiB)}`);
    out.push(`ratio ${n}: report build ${x(b.reportMs, a.reportMs)}, SQLite insert ${x(b.sqliteMs, a.sqliteMs)}, time series rows ${x(b.timeseriesRows, a.timeseriesRows)}`);
  }
  return out;
}

export async function main(o: MemoryOptions = DEFAULTS): Promise<void> {
  console.log(
    `runner memory: one runner process (dist/clients/runner/main.js), the http workload in closed loop, ${o.connections} workers, ${o.warmup} warm-up, then maxRequests ${o.sizes.join(', then ')}, against one Node server process on loopback; RSS from /proc every ${o.sampleMs} ms; then each run's merge, reports (${REPORT_FORMATS.join(', ')}) and SQLite insert, median of ${o.reportRounds}`,
  );
  console.log(`machine: ${cpus().length} cores, Node ${process.version}; load average ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')}`);
  for (const line of table(await measureRunnerMemory(o))) console.log(line);
}
