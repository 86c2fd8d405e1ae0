// Finds a benchmark's runs in a state folder without a controller: the rows of
// <state>/results.db (opened read-only) and the folders under <state>/runs/.
import Database from 'better-sqlite3';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Slo } from '../../api/slo.js';
import { RunResult } from '../../monitoring/results/model.js';
import { SCHEMA_VERSION, type RunsTableRow as DbRunsTableRow } from '../../monitoring/results/results-db.js';
import { collectResults } from '../../monitoring/results/sweep.js';
import { resolvePaths } from '../runtime/paths.js';
import { errorMessage, type IO } from './context.js';

/** One run of a benchmark, as the state folder knows it. */
export interface RunRecord {
  runId: string;
  benchmark: string;
  /** <state>/runs/<benchmark>/<runId>, whether or not it still exists. */
  runDir: string;
  generation?: number;
  attempt?: number;
  /** ISO; the runner's start for a collected run, else when its spec.json was written. */
  startedAt?: string;
  /** Its row in results.db: the run was collected. */
  row?: RunRow;
  /** The run folder exists. */
  hasFolder: boolean;
}

/** One row of results.db `runs`, without the stored result. */
export interface RunRow {
  runId: string;
  benchmark: string;
  generation: number;
  attempt: number;
  startedAt: string;
  completedAt: string;
  durationS: number;
  requests: number;
  errors: number;
  dropped: number;
  throughput: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** null: the benchmark has no SLO. */
  sloPassed: boolean | null;
  reports: Record<string, string>;
}

/** A run reference that names nothing in the state folder; the message lists what does exist. */
export class RunRefError extends Error {
  override name = 'RunRefError';
}

/** The state folder's paths a run lookup needs. */
export interface RunPaths {
  stateDir: string;
  runsDir: string;
  resultsDb: string;
}

export function runPathsOf(stateDir: string): RunPaths {
  const p = resolvePaths({ state: stateDir });
  return { stateDir: p.stateDir, runsDir: p.runsDir, resultsDb: p.resultsDb };
}

/** Throws a clear error when the state folder does not exist, instead of reporting "no runs" for a typo. */
export async function checkStateDir(stateDir: string): Promise<void> {
  let isDir = false;
  try {
    isDir = (await stat(stateDir)).isDirectory();
  } catch {
    // Missing or unreadable: the message below says what to do either way.
  }
  if (!isDir) {
    throw new RunRefError(
      `state folder ${stateDir} does not exist; point --state (or $AIFB_STATE) at the controller's state folder (by default .aifb beside the resources folder)`,
    );
  }
}

/** The columns COLUMNS selects: the row without its report path and stored result. */
type RunsTableRow = Omit<DbRunsTableRow, 'report_json' | 'result'>;

const COLUMNS =
  'run_id, benchmark, generation, attempt, started_at, completed_at, duration_s, requests, errors, dropped, throughput, p50_ms, p90_ms, p95_ms, p99_ms, p999_ms, max_ms, slo_passed, reports';

function parseReports(text: string): Record<string, string> {
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    // A row written by hand: its report paths are simply unknown.
  }
  return {};
}

function toRow(r: RunsTableRow): RunRow {
  return {
    runId: r.run_id,
    benchmark: r.benchmark,
    generation: r.generation,
    attempt: r.attempt,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    durationS: r.duration_s,
    requests: r.requests,
    errors: r.errors,
    dropped: r.dropped,
    throughput: r.throughput,
    p50Ms: r.p50_ms,
    p90Ms: r.p90_ms,
    p95Ms: r.p95_ms,
    p99Ms: r.p99_ms,
    p999Ms: r.p999_ms,
    maxMs: r.max_ms,
    sloPassed: r.slo_passed === null ? null : r.slo_passed === 1,
    reports: parseReports(r.reports),
  };
}

/**
 * results.db opened read-only: a running controller may hold it open in WAL
 * mode, and the CLI must neither migrate nor lock it. Undefined when there is
 * no database yet (no run was collected).
 */
export class ResultsReader {
  private constructor(
    private readonly db: Database.Database | undefined,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<ResultsReader> {
    try {
      await stat(path);
    } catch {
      return new ResultsReader(undefined, path);
    }
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
    } catch (e) {
      throw new RunRefError(`cannot open results database ${path} read-only: ${(e as Error).message}; check its permissions (and those of its folder, which holds the -wal and -shm files)`);
    }
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      db.close();
      throw new RunRefError(`results database ${path} has schema version ${version}, newer than this aifbctl understands (${SCHEMA_VERSION}); use the aifbctl of the controller that wrote it`);
    }
    // Version 0: created but never migrated, so it has no tables to read.
    if (version === 0) {
      db.close();
      return new ResultsReader(undefined, path);
    }
    return new ResultsReader(db, path);
  }

  get exists(): boolean {
    return this.db !== undefined;
  }

  /** A benchmark's collected runs, newest first (as ResultsDb.listRuns orders them). */
  runs(benchmark: string): RunRow[] {
    if (!this.db) return [];
    const rows = this.db.prepare(`SELECT ${COLUMNS} FROM runs WHERE benchmark = ? ORDER BY started_at DESC, run_id DESC`).all(benchmark) as RunsTableRow[];
    return rows.map(toRow);
  }

  row(runId: string): RunRow | undefined {
    if (!this.db) return undefined;
    const r = this.db.prepare(`SELECT ${COLUMNS} FROM runs WHERE run_id = ?`).get(runId) as RunsTableRow | undefined;
    return r && toRow(r);
  }

  /** The full RunResult the controller stored; undefined when the run is not in the database. */
  result(runId: string): RunResult | undefined {
    if (!this.db) return undefined;
    const r = this.db.prepare('SELECT result FROM runs WHERE run_id = ?').get(runId) as { result: string } | undefined;
    if (!r) return undefined;
    try {
      return RunResult.parse(JSON.parse(r.result));
    } catch (e) {
      throw new RunRefError(`run ${runId} in results database ${this.path} is unreadable (${(e as Error).message}); the controller collects it again on its next run, or delete the row`);
    }
  }

  close(): void {
    if (this.db?.open) this.db.close();
  }
}

const RUN_ID_PARTS = /-g(\d+)-a(\d+)$/;

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** When a folder-only run started: its spec.json was written at launch; the folder's own time otherwise. */
async function folderTime(runDir: string): Promise<number> {
  for (const p of [join(runDir, 'spec.json'), runDir]) {
    try {
      return (await stat(p)).mtimeMs;
    } catch {
      // Try the next.
    }
  }
  return 0;
}

/** Whether a run folder holds anything to report: a rank summary, or a sweep's record. */
export async function folderHasResults(runDir: string): Promise<boolean> {
  try {
    return (await readdir(runDir)).some((f) => /^rank-\d+\.(summary|sweep)\.json$/.test(f));
  } catch {
    return false;
  }
}

/** Reads and tolerates <runDir>/spec.json: what the controller handed the runner (load, workload, slo), or undefined. */
export async function readRunSpec(runDir: string): Promise<Record<string, unknown> | undefined> {
  try {
    const v = JSON.parse(await readFile(join(runDir, 'spec.json'), 'utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A state folder's runs: what results.db holds and what the runs folder holds, merged. */
/**
 * A verb's body with the state folder's run index: whatever it throws is one
 * `Error:` line and exit 1, and the index is closed after.
 */
export async function withRunIndex(stateDir: string, io: IO, body: (index: RunIndex) => Promise<number>): Promise<number> {
  let index: RunIndex;
  try {
    index = await RunIndex.open(stateDir);
  } catch (e) {
    io.stderr(`Error: ${errorMessage(e)}\n`);
    return 1;
  }
  try {
    return await body(index);
  } catch (e) {
    io.stderr(`Error: ${errorMessage(e)}\n`);
    return 1;
  } finally {
    index.close();
  }
}

export class RunIndex {
  private constructor(
    readonly paths: RunPaths,
    readonly db: ResultsReader,
  ) {}

  /** Checks the state folder exists and opens its results database read-only. */
  static async open(stateDir: string): Promise<RunIndex> {
    const paths = runPathsOf(stateDir);
    await checkStateDir(paths.stateDir);
    return new RunIndex(paths, await ResultsReader.open(paths.resultsDb));
  }

  close(): void {
    this.db.close();
  }

  runDirOf(benchmark: string, runId: string): string {
    return join(this.paths.runsDir, benchmark, runId);
  }

  /**
   * Every run of a benchmark, newest first: collected runs ordered by their
   * start, folders the database lacks (failed or uncollected runs) by when
   * their spec was written. `withResults` keeps only runs with something to report.
   */
  async list(benchmark: string, opts: { withResults?: boolean } = {}): Promise<RunRecord[]> {
    const byId = new Map<string, { record: RunRecord; at: number }>();
    for (const row of this.db.runs(benchmark)) {
      const runDir = this.runDirOf(benchmark, row.runId);
      byId.set(row.runId, {
        record: { runId: row.runId, benchmark, runDir, generation: row.generation, attempt: row.attempt, startedAt: row.startedAt, row, hasFolder: await isDir(runDir) },
        at: Date.parse(row.startedAt),
      });
    }
    let folders: string[] = [];
    try {
      folders = (await readdir(join(this.paths.runsDir, benchmark), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      // No runs folder for this benchmark: only database rows, if any.
    }
    for (const runId of folders) {
      if (byId.has(runId)) continue;
      const runDir = this.runDirOf(benchmark, runId);
      if (opts.withResults && !(await folderHasResults(runDir))) continue;
      const m = RUN_ID_PARTS.exec(runId);
      const at = await folderTime(runDir);
      byId.set(runId, {
        record: {
          runId,
          benchmark,
          runDir,
          ...(m ? { generation: Number(m[1]), attempt: Number(m[2]) } : {}),
          startedAt: new Date(at).toISOString(),
          hasFolder: true,
        },
        at,
      });
    }
    return [...byId.values()]
      .sort((x, y) => y.at - x.at || (y.record.runId < x.record.runId ? -1 : y.record.runId > x.record.runId ? 1 : 0))
      .map((x) => x.record);
  }

  /** Benchmarks that have runs (a row or a folder), for messages about an unknown name. */
  async benchmarks(): Promise<string[]> {
    const names = new Set<string>();
    try {
      for (const d of await readdir(this.paths.runsDir, { withFileTypes: true })) if (d.isDirectory()) names.add(d.name);
    } catch {
      // No runs folder yet.
    }
    return [...names].sort();
  }

  /**
   * A run by reference: `NAME` (its latest run), `NAME~N` (N runs before the
   * latest), or a run id (`NAME-g2-a1`). With `benchmark`, `ref` is a run id
   * of that benchmark. Throws RunRefError naming the runs that do exist.
   */
  async resolve(ref: string, opts: { benchmark?: string; withResults?: boolean } = {}): Promise<RunRecord> {
    const withResults = opts.withResults ?? false;
    const what = withResults ? 'runs with results' : 'runs';
    if (opts.benchmark !== undefined) {
      const runs = await this.list(opts.benchmark, { withResults });
      const found = runs.find((r) => r.runId === ref);
      if (found) return found;
      throw new RunRefError(`run "${ref}" not found for benchmark ${opts.benchmark}; ${knownRuns(runs, what)}`);
    }
    const tilde = /^(.+)~(\d+)$/.exec(ref);
    if (tilde) return this.nth(tilde[1], Number(tilde[2]), withResults);
    const byId = await this.byRunId(ref, withResults);
    if (byId) return byId;
    const runs = await this.list(ref, { withResults });
    if (runs.length > 0) return runs[0];
    const benchmarks = await this.benchmarks();
    throw new RunRefError(
      `no run id or benchmark "${ref}" with ${what} in ${this.paths.stateDir}; ${benchmarks.length ? `benchmarks with runs: ${benchmarks.join(', ')}` : 'no benchmark has run here yet'} (refer to a run as NAME, NAME~1 for the one before, or its run id)`,
    );
  }

  private async nth(benchmark: string, back: number, withResults: boolean): Promise<RunRecord> {
    const runs = await this.list(benchmark, { withResults });
    if (runs.length === 0) throw new RunRefError(`benchmark ${benchmark} has no ${withResults ? 'runs with results' : 'runs'} in ${this.paths.stateDir}`);
    if (back >= runs.length) {
      throw new RunRefError(`${benchmark}~${back} does not exist: benchmark ${benchmark} has ${runs.length} run(s) (${benchmark} to ${benchmark}~${runs.length - 1}); ${knownRuns(runs, 'runs')}`);
    }
    return runs[back];
  }

  private async byRunId(runId: string, withResults: boolean): Promise<RunRecord | undefined> {
    const row = this.db.row(runId);
    if (row) return (await this.list(row.benchmark, { withResults })).find((r) => r.runId === runId);
    for (const benchmark of await this.benchmarks()) {
      if (!(await isDir(this.runDirOf(benchmark, runId)))) continue;
      const found = (await this.list(benchmark, { withResults })).find((r) => r.runId === runId);
      if (found) return found;
    }
    return undefined;
  }

  /**
   * The run's RunResult: the one the controller stored, else collected again
   * from its folder (a run the database lacks: collected elsewhere, or the
   * database was removed). Throws when neither exists.
   */
  async result(run: RunRecord): Promise<RunResult> {
    const stored = this.db.result(run.runId);
    if (stored) return stored;
    if (!run.hasFolder) throw new RunRefError(`run ${run.runId} has no row in ${this.paths.resultsDb} and no folder at ${run.runDir}: nothing to report`);
    const spec = await readRunSpec(run.runDir);
    const slo = spec?.slo !== undefined ? Slo.safeParse(spec.slo) : undefined;
    const workload = spec?.workload as { type?: unknown } | undefined;
    const m = RUN_ID_PARTS.exec(run.runId);
    return collectResults(run.runDir, {
      runId: run.runId,
      benchmark: run.benchmark,
      generation: run.generation ?? (m ? Number(m[1]) : 0),
      attempt: run.attempt ?? (m ? Number(m[2]) : 0),
      ...(typeof workload?.type === 'string' ? { service: workload.type } : {}),
      ...(slo?.success ? { slo: slo.data } : {}),
    });
  }
}

/** "known runs: a, b, c" (at most ten), or that there are none. */
export function knownRuns(runs: readonly RunRecord[], what = 'runs'): string {
  if (runs.length === 0) return `it has no ${what}`;
  const ids = runs.slice(0, 10).map((r) => r.runId);
  return `known ${what}: ${ids.join(', ')}${runs.length > 10 ? `, and ${runs.length - 10} more` : ''}`;
}
