// One rank of a benchmark run, start to finish: spec -> client -> load ->
// result files, with done.json written last whatever happened.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type BenchmarkClient } from '../client.js';
import type { Clock } from '../engine/clock.js';
import type { LoadResults } from '../engine/engine.js';
import { createClient, workloadDefinition } from '../registry.js';
import { RUNNER_EXIT, rankFile, type RunnerLine } from '../../api/runner-contract.js';
import { runPoint, type PointContext } from './point.js';
import { rankResultsSummary } from './rank-results.js';
import { doneRecord, writeJsonAtomic } from './results.js';
import { readSpec, type SpecResult } from './spec.js';
import { summaryText } from './summary-text.js';
import { label, runSweep } from './sweep.js';
import { markFinished, someoneFinished, startTogether } from './rank-sync.js';

/** How long the ranks wait for each other's setup before giving up. */
const BARRIER_TIMEOUT_MS = 10 * 60_000;

export interface RunnerOptions {
  specPath: string;
  /** The spec as already read from specPath (main.ts reads it once per process, for every rank it runs); read here when absent. */
  read?: SpecResult;
  outDir: string;
  rank: number;
  clock: Clock;
  signal: AbortSignal;
  /** One JSON object per call (the stdout protocol). */
  emit: (line: RunnerLine) => void;
  /** Human-readable diagnostics (stderr). */
  warn: (message: string) => void;
  /** The end-of-run summary for people (stderr, after the result files are written). */
  report?: (text: string) => void;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Runs the rank and returns its exit code (RUNNER_EXIT); never throws. */
export async function runRunner(o: RunnerOptions): Promise<number> {
  const { rank, outDir } = o;
  const finish = async (exitCode: number, reason?: string): Promise<number> => {
    try {
      await writeJsonAtomic(join(outDir, rankFile(rank, 'done')), doneRecord(rank, exitCode, reason));
    } catch (e) {
      o.warn(`could not write ${rankFile(rank, 'done')} in ${outDir}: ${message(e)}`);
    }
    o.emit({ event: 'done', rank, exitCode, ...(reason ? { reason } : {}) });
    return exitCode;
  };

  try {
    await mkdir(outDir, { recursive: true });
    // A done file from an earlier attempt would tell the controller we already finished.
    await rm(join(outDir, rankFile(rank, 'done')), { force: true });
  } catch (e) {
    o.warn(`cannot use output folder ${outDir}: ${message(e)}; pass a writable folder with --out`);
    return RUNNER_EXIT.config;
  }

  const read = o.read ?? (await readSpec(o.specPath));
  if (!read.ok) {
    const text = read.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
    o.warn(`invalid spec ${o.specPath}: ${text}`);
    return finish(RUNNER_EXIT.config, `invalid spec: ${text}`);
  }
  const spec = read.spec;
  if (rank >= spec.ranks) {
    const text = `rank ${rank} is out of range: the spec has ranks: ${spec.ranks}, so ranks are 0..${spec.ranks - 1}`;
    o.warn(text);
    return finish(RUNNER_EXIT.config, text);
  }

  let client: BenchmarkClient;
  try {
    client = await createClient(spec, { rank, outDir });
  } catch (e) {
    const text = e instanceof ConfigError ? `invalid workload: ${e.message}` : message(e);
    o.warn(text);
    return finish(RUNNER_EXIT.config, text);
  }

  o.emit({ event: 'started', rank, runId: spec.runId, time: new Date().toISOString() });

  try {
    await client.setup();
  } catch (e) {
    const text = `${spec.workload.type} setup failed: ${message(e)}`;
    o.warn(text);
    await teardown(client, o.warn);
    // What setup finds wrong with the settings (a collection of another dimension) cannot be helped by a retry.
    return finish(e instanceof ConfigError ? RUNNER_EXIT.config : RUNNER_EXIT.setup, text);
  }

  // Several ranks start together (the skew is reported), each once its own setup is done.
  if (spec.ranks > 1) {
    let startAt: number | undefined;
    try {
      startAt = await startTogether(outDir, rank, spec.ranks, BARRIER_TIMEOUT_MS, o.signal);
    } catch (e) {
      o.warn(message(e));
      await teardown(client, o.warn);
      return finish(RUNNER_EXIT.setup, message(e));
    }
    if (startAt === undefined) {
      await teardown(client, o.warn);
      return finish(RUNNER_EXIT.interrupted, 'stopped by signal while waiting for the other ranks; no results');
    }
  }
  const stonewall = spec.ranks > 1 && spec.load.stonewall;
  const ctx: PointContext = {
    client,
    metrics: workloadDefinition(spec.workload.type)?.metrics ?? [],
    slo: spec.slo,
    ranks: spec.ranks,
    rank,
    runId: spec.runId,
    clock: o.clock,
    signal: o.signal,
    onProgress: (p) => o.emit({ event: 'progress', rank, ...p }),
    ...(stonewall ? { stonewall: () => someoneFinished(outDir, rank, spec.ranks) } : {}),
  };
  const title = `${spec.workload.type} result, rank ${rank}`;
  let last: LoadResults | undefined;
  try {
    const { sweep } = spec.load;
    if (sweep) {
      const record = await runSweep({
        load: { ...spec.load, sweep },
        slo: spec.slo,
        signal: o.signal,
        run: async (load, dir, settings) => {
          await client.beforePoint?.(settings);
          const outcome = await runPoint(ctx, load, join(outDir, dir));
          last = outcome.results;
          return outcome;
        },
        onPoint: (point, { results, peaks }) =>
          o.report?.(
            `sweep point ${point.index} (${label(point)})${point.sloPassed === undefined ? '' : point.sloPassed ? ': SLO met' : ': SLO broken'}${point.keptUp === false ? ', not keeping up' : ''}\n` +
              summaryText(rankResultsSummary(results, peaks), `${title}, point ${point.index}`),
          ),
      });
      await writeJsonAtomic(join(outDir, rankFile(rank, 'sweep')), record);
      o.report?.(`sweep ended: ${record.ended}\n`);
    } else {
      await client.beforePoint?.({ parameters: {} });
      const point = await runPoint(ctx, spec.load, outDir);
      last = point.results;
      // First to finish its own share: the others stop where they are.
      if (stonewall && (last.stopReason === 'maxRequests' || last.stopReason === 'duration')) await markFinished(outDir, rank);
      o.report?.(summaryText(rankResultsSummary(point.results, point.peaks), title));
    }
  } catch (e) {
    const text = message(e);
    o.warn(text);
    await teardown(client, o.warn);
    // A point's setting the workload cannot take (beforePoint) is a config problem: retrying cannot help.
    return finish(e instanceof ConfigError ? RUNNER_EXIT.config : RUNNER_EXIT.crashed, text);
  }
  await teardown(client, o.warn);

  // A sweep stopped before its first point has nothing to say; otherwise the last point speaks for the end.
  if (!last) return finish(RUNNER_EXIT.interrupted, 'stopped by signal before the first sweep point; no results');
  if (last.abandoned > 0) o.warn(`${last.abandoned} request(s) still in flight after the drain timeout were not counted`);
  if (last.stopReason === 'signal') return finish(RUNNER_EXIT.interrupted, 'stopped by signal before the end; results are partial');
  return finish(RUNNER_EXIT.ok);
}

async function teardown(client: BenchmarkClient, warn: (m: string) => void): Promise<void> {
  try {
    await client.teardown();
  } catch (e) {
    // Cleanup trouble does not change the measurements; say so and go on.
    warn(`teardown failed (results are unaffected): ${message(e)}`);
  }
}
