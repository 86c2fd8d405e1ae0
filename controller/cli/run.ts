// `aifbctl run -f FILE`: one benchmark in the foreground, the way a user tries
// things first: no controller, no watched folder. Its service is used or
// started (run-service.ts), the runner runs here with a progress view, Ctrl-C
// stops it and still keeps what it measured, and the results land where the
// controller's would (run folder, reports, results.db) with an exit code that
// says what happened.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeProblems } from '../../api/problems.js';
import { serviceMismatch, type RunnerSpec } from '../../clients/registry.js';
import { encodeSpec } from '../../clients/runner/spec.js';
import { summaryText } from '../../clients/runner/summary-text.js';
import { summarize } from '../../monitoring/results/merge.js';
import { ResultsDb } from '../../monitoring/results/results-db.js';
import { collectResults } from '../../monitoring/results/sweep.js';
import { writeReports } from '../../monitoring/reports/index.js';
import type { BenchmarkResource, ServiceResource } from '../api/schemas.js';
import { runnerRanks } from '../../api/schemas.js';
import { ownedServiceDoc, serviceNameOf } from '../reconcile/owned-service.js';
import { ProgressMerger } from '../reconcile/runner-watch.js';
import { createLogger } from '../runtime/logger.js';
import { resolvePaths } from '../runtime/paths.js';
import { parseResourceText, type ParsedDoc } from '../store/parse.js';
import { errorMessage, type IO } from './context.js';
import { ProgressView } from './run-progress.js';
import { startService, type RunningService } from './run-service.js';

/** What `aifbctl run` exits with, as k6 documents its own; scripts branch on these. */
export const RUN_EXIT = {
  /** The run finished and met its SLO (or had none and no request failed). */
  passed: 0,
  /** The run could not be done: the service did not start, the runner crashed. */
  error: 1,
  /** The file or a flag is wrong; nothing ran. */
  config: 2,
  /** The run finished without an SLO and some requests failed. */
  requestErrors: 98,
  /** The run finished and missed its SLO. */
  sloFailed: 99,
  /** Stopped by Ctrl-C; the partial results were kept. */
  interrupted: 130,
} as const;

export const RUN_HELP = `
Exit codes:
  0    finished; SLO met (or no SLO and no failed request)
  1    could not run: the service did not start or the runner crashed
  2    bad file or flag: nothing ran
  98   finished without an SLO, and some requests failed
  99   finished, and the SLO was not met
  130  stopped with Ctrl-C; the partial results are kept and reported

Examples:
  aifbctl run -f examples/http.yaml
  aifbctl run -f bench.yaml --name http-load      # a file with several benchmarks
  aifbctl run -f examples/quickstart.yaml | tee run.log`;

export interface RunOptions {
  file: string;
  name?: string;
  resources?: string;
  state?: string;
  reports?: string;
  /** A terminal: redraw the progress bar in place. */
  tty: boolean;
  /** Ctrl-C: the first stops the run (partial results kept), a second quits at once. */
  interrupts: { on(listener: () => void): void; off(listener: () => void): void };
}

const RUNNER_MAIN = fileURLToPath(new URL('../../clients/runner/main.js', import.meta.url));

class ConfigError extends Error {}

function pickBenchmark(docs: ParsedDoc[], file: string, name?: string): { doc: ParsedDoc; resource: BenchmarkResource } {
  const problems = docs.filter((d) => !d.validation.ok);
  if (problems.length > 0) {
    throw new ConfigError(problems.map((d) => `${file}: ${d.key ?? `document ${d.index + 1}`}: ${d.validation.ok ? '' : describeProblems(d.validation.problems)}`).join('\n'));
  }
  const benches = docs.filter((d) => d.kind === 'Benchmark');
  if (benches.length === 0) throw new ConfigError(`${file} holds no Benchmark; aifbctl run needs one (see examples/http.yaml)`);
  const chosen = name ? benches.find((d) => d.name === name) : benches.length === 1 ? benches[0] : undefined;
  if (!chosen) {
    const names = benches.map((d) => d.name).join(', ');
    throw new ConfigError(name ? `${file} has no Benchmark named "${name}"; it has ${names}` : `${file} holds several Benchmarks (${names}); choose one with --name`);
  }
  return { doc: chosen, resource: chosen.validation.ok ? (chosen.validation.resource as BenchmarkResource) : (undefined as never) };
}

/** The benchmark's Service: inline, or by serviceRef from the same file. */
function serviceOf(docs: ParsedDoc[], bench: ParsedDoc, resource: BenchmarkResource, file: string): { service: ServiceResource; raw: unknown } | undefined {
  const owned = ownedServiceDoc(bench, resource);
  if (owned) return { service: owned.validation.ok ? (owned.validation.resource as ServiceResource) : (undefined as never), raw: owned.raw };
  const ref = serviceNameOf(resource);
  if (!ref) return undefined;
  const doc = docs.find((d) => d.kind === 'Service' && d.name === ref);
  if (!doc || !doc.validation.ok) throw new ConfigError(`spec.serviceRef: no Service named "${ref}" in ${file}; put the Service in the same file, or use spec.service inline`);
  const service = doc.validation.resource as ServiceResource;
  const mismatch = serviceMismatch(resource.spec.workload, service.spec.type);
  if (mismatch) throw new ConfigError(`spec.serviceRef: ${mismatch}`);
  return { service, raw: doc.raw };
}

const runIdFor = (name: string, at: Date) => `${name}-run-${at.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')}`;

export async function runForeground(opts: RunOptions, io: IO): Promise<number> {
  let text: string;
  try {
    text = readFileSync(opts.file, 'utf8');
  } catch (e) {
    io.stderr(`Error: cannot read ${opts.file} (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}); give a resource file with -f\n`);
    return RUN_EXIT.config;
  }
  let bench: ReturnType<typeof pickBenchmark>;
  let svc: ReturnType<typeof serviceOf>;
  const docs = parseResourceText(text, opts.file);
  try {
    bench = pickBenchmark(docs, opts.file, opts.name);
    svc = serviceOf(docs, bench.doc, bench.resource, opts.file);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.stderr(`Error: ${e.message}\n`);
    return RUN_EXIT.config;
  }
  const { resource } = bench;
  const name = resource.metadata.name;
  const paths = resolvePaths({ resources: opts.resources, state: opts.state, reports: opts.reports });
  const runId = runIdFor(name, new Date());
  const runDir = join(paths.runsDir, name, runId);
  const workDir = join(paths.stateDir, 'foreground', runId);
  mkdirSync(runDir, { recursive: true });
  const log = createLogger((line) => writeFileSync(join(runDir, 'aifbctl-run.log'), `${line}\n`, { flag: 'a' }));

  const stop = new AbortController();
  let interrupts = 0;
  let runners: ChildProcess[] = [];
  const onInterrupt = () => {
    interrupts++;
    stop.abort();
    if (interrupts === 1) {
      io.stderr('\nStopping: the runner writes what it measured so far (Ctrl-C again to quit at once)\n');
      for (const r of runners) r.kill('SIGINT');
    } else {
      for (const r of runners) r.kill('SIGKILL');
    }
  };
  opts.interrupts.on(onInterrupt);

  let service: RunningService | undefined;
  let keepWorkDir = false;
  try {
    if (svc) {
      io.stderr(svc.service.spec.endpoint ? `Service ${svc.service.metadata.name} at ${svc.service.spec.endpoint.host}:${svc.service.spec.endpoint.port}\n` : `Starting service ${svc.service.metadata.name} (${svc.service.spec.type})...\n`);
      try {
        service = await startService(svc.service, svc.raw, workDir, log, stop.signal);
      } catch (e) {
        // Its logs say why: kept for the user to read.
        keepWorkDir = !stop.signal.aborted;
        io.stderr(`Error: ${errorMessage(e)}\n`);
        return stop.signal.aborted ? RUN_EXIT.interrupted : RUN_EXIT.error;
      }
    }
    const { runner, load } = resource.spec;
    const { processes, ranks } = runnerRanks(runner);
    const spec: RunnerSpec = { benchmark: name, runId, workload: resource.spec.workload, load, service: service?.connection, ranks, threads: runner.threads, ...(resource.spec.slo ? { slo: resource.spec.slo } : {}) };
    writeFileSync(join(runDir, 'spec.json'), JSON.stringify(encodeSpec(spec), null, 2));

    io.stderr(`Running ${name} (run ${runId}${ranks > 1 ? `, ${ranks} ranks` : ''}); Ctrl-C stops it and keeps what was measured\n`);
    const view = new ProgressView(io.stderr, opts.tty, { totalMs: load.duration === undefined ? undefined : load.duration + load.warmup, warmupMs: load.warmup, maxRequests: load.maxRequests });
    const merger = new ProgressMerger();
    runners = Array.from({ length: processes }, (_, rank) => startRunner(runDir, rank, processes, (line) => {
      if (merger.add(line)) view.show(merger.total()!);
    }));
    if (stop.signal.aborted) for (const r of runners) r.kill('SIGINT');
    const codes = await Promise.all(runners.map((r) => new Promise<number>((resolve) => r.once('exit', (code) => resolve(code ?? 1)))));
    view.done();

    let result;
    try {
      result = await collectResults(runDir, { runId, benchmark: name, generation: 1, attempt: 1, service: svc?.service.metadata.name ?? resource.spec.workload.type, slo: resource.spec.slo });
    } catch (e) {
      io.stderr(`Error: the runner left no results (exit ${codes.join(', ')}): ${errorMessage(e)}; see ${runDir}\n`);
      return stop.signal.aborted ? RUN_EXIT.interrupted : RUN_EXIT.error;
    }
    const reportsDir = join(resource.spec.reports.dir ?? join(paths.reportsDir, name), runId);
    const reports = await writeReports(result, reportsDir, resource.spec.reports.formats);
    const db = new ResultsDb(paths.resultsDb);
    try {
      db.saveRun(result, reports);
    } finally {
      db.close();
    }
    const summary = summarize(result);
    io.stdout(summaryText(summary, `${name}: ${stop.signal.aborted ? 'stopped early, partial results' : 'results'}`));
    io.stdout(`\nRun folder: ${runDir}\n`);
    for (const [format, path] of Object.entries(reports)) io.stdout(`${format.padEnd(12)} ${path}\n`);
    if (stop.signal.aborted) return RUN_EXIT.interrupted;
    if (codes.some((c) => c !== 0)) return RUN_EXIT.error;
    if (summary.sloPassed === false) return RUN_EXIT.sloFailed;
    if (summary.sloPassed === undefined && summary.errors > 0) return RUN_EXIT.requestErrors;
    return RUN_EXIT.passed;
  } finally {
    opts.interrupts.off(onInterrupt);
    await service?.stop();
    if (!keepWorkDir) {
      rmSync(workDir, { recursive: true, force: true });
      removeIfEmpty(dirname(workDir));
    }
  }
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Another foreground run is using it, or it is gone already.
  }
}

/** One process of the runner (its threads' ranks with it), its stdout lines handed to onLine, its stderr kept beside the results. */
function startRunner(runDir: string, rank: number, processes: number, onLine: (line: string) => void): ChildProcess {
  const suffix = processes > 1 ? `.${rank}` : '';
  const child = spawn(process.execPath, [RUNNER_MAIN, '--spec', join(runDir, 'spec.json'), '--out', runDir, '--rank', String(rank)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C on the terminal reaches aifbctl only, which decides what the runner gets.
    detached: true,
  });
  let partial = '';
  const stdoutLog = createWriteStream(join(runDir, `runner${suffix}.stdout.log`));
  child.stdout!.pipe(stdoutLog);
  child.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) onLine(l);
  });
  const stderr: Buffer[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d));
  child.once('exit', () => writeFileSync(join(runDir, `runner${suffix}.stderr.log`), Buffer.concat(stderr)));
  return child;
}
