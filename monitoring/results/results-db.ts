// The results store: one SQLite file (WAL) holding every finished run, its
// per-operation rows and its per-second series, for the CLI, API and SQL users.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ResultsError } from './errors.js';
import { RunResult, type MetricStats } from './model.js';

/** Each entry moves the schema from version i to i+1; append only, never edit a shipped one. */
const MIGRATIONS: string[] = [
  `CREATE TABLE runs (
     run_id TEXT PRIMARY KEY,
     benchmark TEXT NOT NULL,
     generation INTEGER NOT NULL,
     attempt INTEGER NOT NULL,
     started_at TEXT NOT NULL,
     completed_at TEXT NOT NULL,
     duration_s REAL NOT NULL,
     requests INTEGER NOT NULL,
     errors INTEGER NOT NULL,
     dropped INTEGER NOT NULL,
     throughput REAL NOT NULL,
     p50_ms REAL NOT NULL,
     p90_ms REAL NOT NULL,
     p95_ms REAL NOT NULL,
     p99_ms REAL NOT NULL,
     p999_ms REAL NOT NULL,
     max_ms REAL NOT NULL,
     slo_passed INTEGER,
     report_json TEXT,
     reports TEXT NOT NULL,
     result TEXT NOT NULL
   );
   CREATE INDEX runs_by_benchmark ON runs (benchmark, started_at);
   CREATE TABLE operations (
     run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
     op TEXT NOT NULL,
     requests INTEGER NOT NULL,
     errors INTEGER NOT NULL,
     bytes INTEGER NOT NULL,
     throughput REAL NOT NULL,
     mean_ms REAL NOT NULL,
     p50_ms REAL NOT NULL,
     p90_ms REAL NOT NULL,
     p95_ms REAL NOT NULL,
     p99_ms REAL NOT NULL,
     PRIMARY KEY (run_id, op)
   );
   CREATE TABLE timeseries (
     run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
     second INTEGER NOT NULL,
     warmup INTEGER NOT NULL,
     requests INTEGER NOT NULL,
     errors INTEGER NOT NULL,
     bytes INTEGER NOT NULL,
     mean_ms REAL NOT NULL,
     p50_ms REAL NOT NULL,
     p99_ms REAL NOT NULL,
     max_ms REAL NOT NULL,
     PRIMARY KEY (run_id, second)
   );`,
  // Declared workload metrics (ttft, tokens, bytes...); the `bytes` columns above
  // hold the `bytes` metric, 0 for workloads that do not measure bytes.
  `CREATE TABLE metrics (
     run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
     op TEXT NOT NULL,
     metric TEXT NOT NULL,
     kind TEXT NOT NULL,
     unit TEXT NOT NULL,
     count INTEGER NOT NULL,
     sum REAL NOT NULL,
     per_second REAL NOT NULL,
     mean REAL NOT NULL,
     p50 REAL NOT NULL,
     p90 REAL NOT NULL,
     p95 REAL NOT NULL,
     p99 REAL NOT NULL,
     p999 REAL NOT NULL,
     max REAL NOT NULL,
     PRIMARY KEY (run_id, op, metric)
   );`,
];
export const SCHEMA_VERSION = MIGRATIONS.length;

/** One row of `runs`, as listRuns returns it (no per-op or per-second detail). */
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
  sloPassed?: boolean;
  reportJson?: string;
}

export interface StoredRun extends RunRow {
  reports: Record<string, string>;
  result: RunResult;
}

/** A `runs` row as SQLite returns it (snake_case columns). */
export interface RunsTableRow {
  run_id: string;
  benchmark: string;
  generation: number;
  attempt: number;
  started_at: string;
  completed_at: string;
  duration_s: number;
  requests: number;
  errors: number;
  dropped: number;
  throughput: number;
  p50_ms: number;
  p90_ms: number;
  p95_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  slo_passed: number | null;
  report_json: string | null;
  reports: string;
  result: string;
}

const ROW_COLUMNS =
  'run_id, benchmark, generation, attempt, started_at, completed_at, duration_s, requests, errors, dropped, throughput, p50_ms, p90_ms, p95_ms, p99_ms, p999_ms, max_ms, slo_passed, report_json';

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
    ...(r.slo_passed === null ? {} : { sloPassed: r.slo_passed === 1 }),
    ...(r.report_json === null ? {} : { reportJson: r.report_json }),
  };
}

export class ResultsDb {
  private readonly db: Database.Database;
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path);
    } catch (e) {
      throw new ResultsError(`cannot open results database ${path}: ${(e as Error).message}; check the path and its permissions`, {
        file: path,
        cause: e,
      });
    }
    // WAL lets the status API read while the controller writes a run.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      this.db.close();
      throw new ResultsError(
        `results database ${this.path} has schema version ${version}, newer than this aifb understands (${SCHEMA_VERSION}); upgrade aifb or point it at another database`,
        { file: this.path },
      );
    }
    for (let v = version; v < SCHEMA_VERSION; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /** Stores a run with its report paths; saving the same run_id again replaces it whole. */
  saveRun(result: RunResult, reports: Record<string, string>): void {
    const id = result.runId;
    const l = result.latencyMs;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM metrics WHERE run_id = ?').run(id);
      this.db.prepare('DELETE FROM timeseries WHERE run_id = ?').run(id);
      this.db.prepare('DELETE FROM operations WHERE run_id = ?').run(id);
      this.db.prepare('DELETE FROM runs WHERE run_id = ?').run(id);
      this.db
        .prepare(
          `INSERT INTO runs (${ROW_COLUMNS}, reports, result)
           VALUES (@run_id, @benchmark, @generation, @attempt, @started_at, @completed_at, @duration_s, @requests, @errors, @dropped,
                   @throughput, @p50_ms, @p90_ms, @p95_ms, @p99_ms, @p999_ms, @max_ms, @slo_passed, @report_json, @reports, @result)`,
        )
        .run({
          run_id: id,
          benchmark: result.benchmark,
          generation: result.generation,
          attempt: result.attempt,
          started_at: result.startedAt,
          completed_at: result.completedAt,
          duration_s: result.durationS,
          requests: result.summary.total_requests,
          errors: result.summary.failed_requests,
          dropped: result.summary.dropped_requests,
          throughput: result.summary.throughput,
          p50_ms: l.p50,
          p90_ms: l.p90,
          p95_ms: l.p95,
          p99_ms: l.p99,
          p999_ms: l.p999,
          max_ms: l.max,
          slo_passed: result.slo ? (result.slo.passed ? 1 : 0) : null,
          report_json: reports.json ?? null,
          reports: JSON.stringify(reports),
          result: JSON.stringify(result),
        } satisfies RunsTableRow);
      const op = this.db.prepare(
        `INSERT INTO operations (run_id, op, requests, errors, bytes, throughput, mean_ms, p50_ms, p90_ms, p95_ms, p99_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const [name, o] of Object.entries(result.operations)) {
        const m = o.latencyMs;
        op.run(id, name, o.total_requests, o.failed, o.metrics.bytes?.sum ?? 0, o.throughput, m.mean, m.p50, m.p90, m.p95, m.p99);
      }
      const ts = this.db.prepare(
        `INSERT INTO timeseries (run_id, second, warmup, requests, errors, bytes, mean_ms, p50_ms, p99_ms, max_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const p of result.timeseries) ts.run(id, p.second, p.warmup ? 1 : 0, p.requests, p.errors, p.counts.bytes ?? 0, p.meanMs, p.p50Ms, p.p99Ms, p.maxMs);
      const metric = this.db.prepare(
        `INSERT INTO metrics (run_id, op, metric, kind, unit, count, sum, per_second, mean, p50, p90, p95, p99, p999, max)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const byOp: [string, Record<string, MetricStats>][] = [...Object.entries(result.operations).map(([op, o]): [string, Record<string, MetricStats>] => [op, o.metrics]), ['all', result.metrics]];
      for (const [op, metrics] of byOp) {
        for (const [name, m] of Object.entries(metrics)) metric.run(id, op, name, m.kind, m.unit, m.count, m.sum, m.perSecond, m.mean, m.p50, m.p90, m.p95, m.p99, m.p999, m.max);
      }
    })();
  }

  /** The stored run with its full RunResult, or undefined when no run has this id. */
  getRun(runId: string): StoredRun | undefined {
    const r = this.db.prepare(`SELECT ${ROW_COLUMNS}, reports, result FROM runs WHERE run_id = ?`).get(runId) as RunsTableRow | undefined;
    if (!r) return undefined;
    let result: RunResult;
    let reports: Record<string, string>;
    try {
      result = RunResult.parse(JSON.parse(r.result));
      reports = z.record(z.string(), z.string()).parse(JSON.parse(r.reports));
    } catch (e) {
      throw new ResultsError(
        `run ${runId} in results database ${this.path} is unreadable (${(e as Error).message}); delete the row or collect the run again`,
        { file: this.path, cause: e },
      );
    }
    return { ...toRow(r), reports, result };
  }

  /** Runs newest first, optionally for one benchmark. */
  listRuns(benchmark?: string): RunRow[] {
    const rows = (
      benchmark === undefined
        ? this.db.prepare(`SELECT ${ROW_COLUMNS} FROM runs ORDER BY started_at DESC, run_id DESC`).all()
        : this.db.prepare(`SELECT ${ROW_COLUMNS} FROM runs WHERE benchmark = ? ORDER BY started_at DESC, run_id DESC`).all(benchmark)
    ) as RunsTableRow[];
    return rows.map(toRow);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
