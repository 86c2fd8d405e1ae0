// One load run of a rank into one folder: the engine's run, streamed per-second
// rows, then the rank's result files. A plain benchmark is one point in the run
// folder; a sweep is one point per rate or concurrency, each in its own folder.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetricDecl } from '../../api/metrics.js';
import { rankFile } from '../../api/runner-contract.js';
import type { Load } from '../../api/schemas.js';
import type { Slo } from '../../api/slo.js';
import type { BenchmarkClient } from '../client.js';
import type { Clock } from '../engine/clock.js';
import { runLoad, type EngineProgress, type LoadResults } from '../engine/engine.js';
import { PeakCounts } from './rank-results.js';
import { buildSummary, jsonlToJsonArray, JsonlRows, writeJsonAtomic } from './results.js';

/** The engine failed mid-run (a bug or a client that threw outside a request): the rank crashed. */
export class EngineFailed extends Error {}
/** The results could not be written where the controller reads them. */
export class ResultsNotWritten extends Error {}

export interface PointContext {
  client: BenchmarkClient;
  metrics: readonly MetricDecl[];
  slo?: Slo;
  ranks: number;
  rank: number;
  runId: string;
  clock: Clock;
  signal: AbortSignal;
  onProgress: (p: EngineProgress) => void;
  /** Several ranks with load.stonewall: whether another rank finished its share. */
  stonewall?: () => boolean;
}

export interface PointOutcome {
  results: LoadResults;
  /** Count metrics' busiest measured second (peak tokens/s). */
  peaks: Record<string, number>;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function runPoint(ctx: PointContext, load: Load, dir: string): Promise<PointOutcome> {
  const { rank } = ctx;
  const jsonl = join(dir, `rank-${rank}.timeseries.jsonl`);
  const peaks = new PeakCounts();
  let rows: JsonlRows | undefined;
  let results: LoadResults;
  const startedAtEpochMs = Date.now();
  try {
    await mkdir(dir, { recursive: true });
    rows = new JsonlRows(jsonl);
    const sink = rows;
    results = await runLoad({
      client: ctx.client,
      metrics: ctx.metrics,
      load,
      slo: ctx.slo,
      ranks: ctx.ranks,
      rank,
      clock: ctx.clock,
      signal: ctx.signal,
      stonewall: ctx.stonewall,
      onRow: (row) => {
        sink.write(row);
        peaks.add(row);
      },
      onProgress: ctx.onProgress,
    });
  } catch (e) {
    throw new EngineFailed(`load engine failed: ${message(e)}`);
  } finally {
    rows?.close();
  }
  try {
    await writeJsonAtomic(join(dir, rankFile(rank, 'summary')), buildSummary(results, { rank, runId: ctx.runId, startedAtEpochMs, metrics: ctx.metrics }));
    await writeJsonAtomic(join(dir, rankFile(rank, 'histograms')), results.histograms.encode());
    await jsonlToJsonArray(jsonl, join(dir, rankFile(rank, 'timeseries')));
  } catch (e) {
    throw new ResultsNotWritten(`could not write results in ${dir}: ${message(e)}`);
  }
  return { results, peaks: peaks.peaks };
}
