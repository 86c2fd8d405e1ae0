// One rank of a benchmark run, start to finish: spec -> client -> load ->
// result files, with done.json written last whatever happened.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type BenchmarkClient } from '../client.js';
import type { Clock } from '../engine/clock.js';
import { runLoad, type LoadResults } from '../engine/engine.js';
import { createClient, workloadDefinition } from '../registry.js';
import { RUNNER_EXIT, rankFile, type RunnerLine } from '../../api/runner-contract.js';
import { buildSummary, doneRecord, jsonlToJsonArray, JsonlRows, writeJsonAtomic } from './results.js';
import { PeakCounts, rankResultsSummary } from './rank-results.js';
import { readSpec } from './spec.js';
import { summaryText } from './summary-text.js';

export interface RunnerOptions {
  specPath: string;
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

  const read = await readSpec(o.specPath);
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
    return finish(RUNNER_EXIT.setup, text);
  }

  const metrics = workloadDefinition(spec.workload.type)?.metrics ?? [];
  const jsonl = join(outDir, `rank-${rank}.timeseries.jsonl`);
  let rows: JsonlRows | undefined;
  let results: LoadResults;
  const peaks = new PeakCounts();
  const startedAtEpochMs = Date.now();
  try {
    rows = new JsonlRows(jsonl);
    const sink = rows;
    results = await runLoad({
      client,
      metrics,
      load: spec.load,
      slo: spec.slo,
      ranks: spec.ranks,
      rank,
      clock: o.clock,
      signal: o.signal,
      onRow: (row) => {
        sink.write(row);
        peaks.add(row);
      },
      onProgress: (p) => o.emit({ event: 'progress', rank, ...p }),
    });
  } catch (e) {
    rows?.close();
    const text = `load engine failed: ${message(e)}`;
    o.warn(text);
    await teardown(client, o.warn);
    return finish(RUNNER_EXIT.crashed, text);
  }
  rows.close();
  await teardown(client, o.warn);

  try {
    await writeJsonAtomic(join(outDir, rankFile(rank, 'summary')), buildSummary(results, { rank, runId: spec.runId, startedAtEpochMs, metrics }));
    await writeJsonAtomic(join(outDir, rankFile(rank, 'histograms')), results.histograms.encode());
    await jsonlToJsonArray(jsonl, join(outDir, rankFile(rank, 'timeseries')));
  } catch (e) {
    const text = `could not write results in ${outDir}: ${message(e)}`;
    o.warn(text);
    return finish(RUNNER_EXIT.crashed, text);
  }

  o.report?.(summaryText(rankResultsSummary(results, peaks.peaks), `${spec.workload.type} result, rank ${rank}`));
  if (results.abandoned > 0) o.warn(`${results.abandoned} request(s) still in flight after the drain timeout were not counted`);
  if (results.stopReason === 'signal') return finish(RUNNER_EXIT.interrupted, 'stopped by signal before the end; results are partial');
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
