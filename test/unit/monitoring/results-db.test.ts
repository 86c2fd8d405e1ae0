import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Slo } from '../../../api/schemas.js';
import { collectRun, ResultsError } from '../../../monitoring/results/merge.js';
import type { RunResult } from '../../../monitoring/results/model.js';
import { ResultsDb, SCHEMA_VERSION } from '../../../monitoring/results/results-db.js';
import { latencies, row, writeRank } from './rank-fixtures.js';

let dir: string;
let dbPath: string;
let result: RunResult;
const open: ResultsDb[] = [];
const db = (p = dbPath) => {
  const d = new ResultsDb(p);
  open.push(d);
  return d;
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aifb-db-'));
  dbPath = join(dir, 'state', 'results.db');
  const runDir = join(dir, 'run');
  await writeRank(runDir, {
    rank: 0,
    ops: { read: latencies(1, 300), write: latencies(2, 100) },
    errors: { write: 2 },
    errorsByReason: { write: { ENOSPC: 2 } },
    bytes: { read: 10, write: 20 },
    timeseries: [row(0, 200, 1.5, 4), row(1, 200, 1.7, 5)],
  });
  result = await collectRun(runDir, { runId: 'run-1', benchmark: 'fs-load', generation: 1, attempt: 1, slo: Slo.parse({ p99: '1s' }) });
});
afterEach(async () => {
  for (const d of open.splice(0)) d.close();
  await rm(dir, { recursive: true, force: true });
});

const count = (table: string) => {
  const raw = new Database(dbPath, { readonly: true });
  try {
    return (raw.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    raw.close();
  }
};

describe('ResultsDb', () => {
  it('creates the file in WAL mode at the current schema version', () => {
    db();
    const raw = new Database(dbPath, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it('round-trips a run: the stored result equals the one saved, after reopening', () => {
    const reports = { json: '/r/run-1-report.json', csv: '/r/run-1-operations.csv' };
    db().saveRun(result, reports);
    open.pop()!.close();
    const got = db().getRun('run-1');
    expect(got?.result).toEqual(result);
    expect(got?.reports).toEqual(reports);
    expect(got).toMatchObject({
      runId: 'run-1',
      benchmark: 'fs-load',
      requests: 400,
      errors: 2,
      p99Ms: result.latencyMs.p99,
      sloPassed: true,
      reportJson: '/r/run-1-report.json',
    });
  });

  it('fills the operations, timeseries and metrics tables for SQL users', () => {
    db().saveRun(result, {});
    const raw = new Database(dbPath, { readonly: true });
    const ops = raw.prepare('SELECT op, requests, errors, bytes, p99_ms FROM operations ORDER BY op').all();
    expect(ops).toEqual([
      { op: 'read', requests: 300, errors: 0, bytes: 10, p99_ms: result.operations.read.latencyMs.p99 },
      { op: 'write', requests: 100, errors: 2, bytes: 20, p99_ms: result.operations.write.latencyMs.p99 },
    ]);
    expect(raw.prepare('SELECT second, requests, mean_ms FROM timeseries ORDER BY second').all()).toEqual([
      { second: 0, requests: 200, mean_ms: 1.5 },
      { second: 1, requests: 200, mean_ms: 1.7 },
    ]);
    expect(raw.prepare("SELECT op, metric, kind, unit, count, sum FROM metrics WHERE metric = 'bytes' ORDER BY op").all()).toEqual([
      { op: 'all', metric: 'bytes', kind: 'count', unit: 'bytes', count: 2, sum: 30 },
      { op: 'read', metric: 'bytes', kind: 'count', unit: 'bytes', count: 1, sum: 10 },
      { op: 'write', metric: 'bytes', kind: 'count', unit: 'bytes', count: 1, sum: 20 },
    ]);
    raw.close();
  });

  it('saving the same run again replaces it instead of adding rows', () => {
    const d = db();
    d.saveRun(result, { json: '/a.json' });
    d.saveRun(result, { json: '/a.json' });
    const changed: RunResult = { ...result, attempt: 2, operations: { read: result.operations.read }, timeseries: [result.timeseries[0]] };
    d.saveRun(changed, { json: '/b.json' });
    expect(count('runs')).toBe(1);
    expect(count('operations')).toBe(1);
    expect(count('timeseries')).toBe(1);
    expect(d.getRun('run-1')).toMatchObject({ attempt: 2, reportJson: '/b.json' });
  });

  it('lists runs newest first, optionally for one benchmark', () => {
    const d = db();
    d.saveRun(result, {});
    d.saveRun({ ...result, runId: 'run-2', startedAt: '2030-01-01T00:00:00.000Z' }, {});
    d.saveRun({ ...result, runId: 'other-1', benchmark: 'other' }, {});
    // Same start time: ties break on run_id, descending.
    expect(d.listRuns().map((r) => r.runId)).toEqual(['run-2', 'run-1', 'other-1']);
    expect(d.listRuns('fs-load').map((r) => r.runId)).toEqual(['run-2', 'run-1']);
    expect(d.listRuns('nothing')).toEqual([]);
  });

  it('returns undefined for an unknown run', () => {
    expect(db().getRun('missing')).toBeUndefined();
  });

  it('leaves a run without SLO with no sloPassed', () => {
    const d = db();
    const { slo: _slo, ...noSlo } = result;
    d.saveRun(noSlo, {});
    expect(d.getRun('run-1')).not.toHaveProperty('sloPassed');
  });

  it('refuses a database from a newer aifb with a clear message', () => {
    db().close();
    const raw = new Database(dbPath);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => db()).toThrow(ResultsError);
    expect(() => db()).toThrow(/newer than this aifb understands/);
  });

  it('keeps a transaction whole: a failing save leaves the earlier run intact', () => {
    const d = db();
    d.saveRun(result, { json: '/a.json' });
    const bad = { ...result, timeseries: [result.timeseries[0], result.timeseries[0]] }; // duplicate second violates the key
    expect(() => d.saveRun(bad, { json: '/bad.json' })).toThrow();
    expect(d.getRun('run-1')?.reportJson).toBe('/a.json');
    expect(count('timeseries')).toBe(2);
  });
});
