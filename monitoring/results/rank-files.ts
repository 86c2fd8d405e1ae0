// Reads and validates one runner rank's result files (api/runner-contract.ts),
// so a half-written or foreign file becomes a ResultsError naming that file.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { RankDone, RankHistograms, RankSummary, RankSweep, rankFile, TimeSeriesRow } from '../../api/runner-contract.js';
import { ResultsError } from './errors.js';

export interface RankFiles {
  rank: number;
  summary: RankSummary;
  histograms: RankHistograms;
  /** Empty when the rank left no time series (a warning, not an error). */
  timeseries: TimeSeriesRow[];
  done?: RankDone;
  /** Absolute path of the histograms file, for error messages about its contents. */
  histogramsFile: string;
}

const RANK_FILE = /^rank-(\d+)\.(summary|histograms|timeseries|done)\.json$/;

/** Ranks that left any file in runDir, and which of them left a summary. */
export async function listRanks(runDir: string): Promise<{ all: number[]; withSummary: number[] }> {
  let names: string[];
  try {
    names = await readdir(runDir);
  } catch (e) {
    throw new ResultsError(
      `cannot read run folder ${runDir}: ${(e as Error).message}; check that the run ran and that its output folder is this one`,
      { file: runDir, cause: e },
    );
  }
  const all = new Set<number>();
  const withSummary = new Set<number>();
  for (const name of names) {
    const m = RANK_FILE.exec(name);
    if (!m) continue;
    all.add(Number(m[1]));
    if (m[2] === 'summary') withSummary.add(Number(m[1]));
  }
  const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
  return { all: sorted(all), withSummary: sorted(withSummary) };
}

/** Reads and parses one JSON file; undefined when it does not exist and `optional` is set. */
async function readJson<T>(file: string, schema: z.ZodType<T>, optional: boolean): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (optional && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ResultsError(
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? `missing result file ${file}: the runner rank wrote a summary but not this file; it probably crashed while writing; rerun the benchmark`
        : `cannot read result file ${file}: ${(e as Error).message}`,
      { file, cause: e },
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ResultsError(
      `corrupt result file ${file}: not valid JSON (${(e as Error).message}); the runner was probably killed while writing it; rerun the benchmark`,
      { file, cause: e },
    );
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new ResultsError(
      `corrupt result file ${file}: field ${where}: ${issue?.message ?? 'invalid'}; the file does not match the runner contract (api/runner-contract.ts); is the runner the same version as the controller?`,
      { file, cause: parsed.error },
    );
  }
  return parsed.data;
}

/** Reads one rank that left a summary; histograms are required, time series and done are optional. */
export async function readRank(runDir: string, rank: number): Promise<RankFiles> {
  const path = (what: Parameters<typeof rankFile>[1]) => join(runDir, rankFile(rank, what));
  const summary = (await readJson(path('summary'), RankSummary, false))!;
  const histogramsFile = path('histograms');
  const histograms = (await readJson(histogramsFile, RankHistograms, false))!;
  const timeseries = (await readJson(path('timeseries'), z.array(TimeSeriesRow), true)) ?? [];
  const done = await readJson(path('done'), RankDone, true);
  return { rank, summary, histograms, timeseries, done, histogramsFile };
}

/** The done file of a rank that left no summary, to explain why in a warning. */
export async function readDone(runDir: string, rank: number): Promise<RankDone | undefined> {
  return readJson(join(runDir, rankFile(rank, 'done')), RankDone, true);
}

/** A sweep's record (rank 0 runs every sweep), or undefined for a run that was not a sweep. */
export async function readSweep(runDir: string): Promise<RankSweep | undefined> {
  return readJson(join(runDir, rankFile(0, 'sweep')), RankSweep, true);
}
