// aifbctl runs and aifbctl logs: the two verbs that read a benchmark's run
// history and run folders straight from a state folder.
import Database from 'better-sqlite3';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Slo } from '../../../api/schemas.js';
import { runLogs } from '../../../controller/cli/logs.js';
import { RUNS_HEADER, runRuns } from '../../../controller/cli/runs.js';
import { collectRun } from '../../../monitoring/results/merge.js';
import type { RunResult } from '../../../monitoring/results/model.js';
import { ResultsDb } from '../../../monitoring/results/results-db.js';
import { latencies, writeRank } from '../monitoring/rank-fixtures.js';
import { capture } from './fixtures.js';

let state: string;
const results = new Map<string, RunResult>();
const NOW = Date.parse('2025-01-06T13:00:00.000Z');

async function collected(db: ResultsDb, bench: string, runId: string, startedAt: string, slo?: string): Promise<void> {
  const runDir = join(state, 'runs', bench, runId);
  await writeRank(runDir, { rank: 0, runId, startedAt, ops: { read: latencies(runId.length, 300), write: latencies(7, 100, 3000) }, errors: { write: 1 } });
  const m = /-g(\d+)-a(\d+)$/.exec(runId)!;
  const result = await collectRun(runDir, { runId, benchmark: bench, generation: Number(m[1]), attempt: Number(m[2]), ...(slo ? { slo: Slo.parse({ p99: slo }) } : {}) });
  results.set(runId, result);
  db.saveRun(result, { json: `/reports/${runId}-report.json` });
}

const at = (iso: string) => new Date(Date.parse(iso));

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'aifb-cli-runs-'));
  const db = new ResultsDb(join(state, 'results.db'));
  try {
    await collected(db, 'fs-load', 'fs-load-g1-a1', '2025-01-04T12:00:00.000Z', '1s');
    await collected(db, 'fs-load', 'fs-load-g1-a2', '2025-01-05T12:00:00.000Z', '1ms');
    await collected(db, 'fs-load', 'fs-load-g2-a1', '2025-01-06T12:00:00.000Z');
    await collected(db, 'other', 'other-g1-a1', '2025-01-06T12:30:00.000Z');
  } finally {
    db.close();
  }
  // fs-load's run folders hold logs: g1-a1 one rank, g2-a1 two ranks; g3-a1 failed before it left results.
  const dir = (id: string) => join(state, 'runs', 'fs-load', id);
  await writeFile(join(dir('fs-load-g1-a1'), 'runner.stdout.log'), '{"event":"started","rank":0}\n{"event":"done","rank":0,"exitCode":0}\n');
  await writeFile(join(dir('fs-load-g1-a1'), 'runner.stderr.log'), 'warning: slow disk\n');
  await writeFile(join(dir('fs-load-g2-a1'), 'runner.0.stdout.log'), 'zero one\nzero two\n');
  await writeFile(join(dir('fs-load-g2-a1'), 'runner.1.stdout.log'), 'one one\n');
  await writeFile(join(dir('fs-load-g2-a1'), 'runner.1.stderr.log'), 'rank one complains\n');
  await mkdir(dir('fs-load-g3-a1'), { recursive: true });
  await writeFile(join(dir('fs-load-g3-a1'), 'spec.json'), '{}');
  await utimes(join(dir('fs-load-g3-a1'), 'spec.json'), at('2025-01-06T12:50:00Z'), at('2025-01-06T12:50:00Z'));
  await writeFile(join(dir('fs-load-g3-a1'), 'runner.stderr.log'), 'error: cannot reach http://127.0.0.1:9\n');
  // The service the controller launched for fs-load (it owns it: fs-load-svc), two attempts.
  for (const [launch, text] of [['g1-a1', 'old server\n'], ['g1-a2', 'server listening on :8000\nGET /health 200\n']]) {
    await mkdir(join(state, 'services', 'fs-load-svc', launch), { recursive: true });
    await writeFile(join(state, 'services', 'fs-load-svc', launch, 'service.stdout.log'), text);
  }
});
afterAll(async () => {
  await rm(state, { recursive: true, force: true });
});

const runs = async (name: string, output?: 'table' | 'json' | 'yaml', stateDir = state) => {
  const io = capture();
  const code = await runRuns({ stateDir, name, output, now: () => NOW }, io);
  return { code, ...io };
};

describe('aifbctl runs', () => {
  it('lists the runs of one benchmark newest first, with the stored figures', async () => {
    const { code, out, err } = await runs('fs-load');
    expect(err).toBe('');
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0].split(/\s+/)).toEqual([...RUNS_HEADER]);
    const rows = lines.slice(1).map((l) => l.split(/\s+/));
    expect(rows.map((r) => r[0])).toEqual(['fs-load-g2-a1', 'fs-load-g1-a2', 'fs-load-g1-a1']);
    const g11 = results.get('fs-load-g1-a1')!;
    expect(rows[2]).toEqual([
      'fs-load-g1-a1',
      '1',
      '1',
      '2d1h',
      '400',
      g11.summary.throughput.toFixed(1),
      `${g11.latencyMs.p50.toFixed(1)}ms`,
      `${g11.latencyMs.p99.toFixed(1)}ms`,
      'passed',
    ]);
    expect(rows[1].slice(1, 4)).toEqual(['1', '2', '25h']);
    expect(rows[1][8]).toBe('failed');
    expect(rows[0].slice(1, 4)).toEqual(['2', '1', '60m']);
    expect(rows[0][8]).toBe('-');
    // Columns line up: GEN starts at the same place on every line.
    expect(new Set(lines.map((l) => /^\S+\s+/.exec(l)![0].length)).size).toBe(1);
  });

  it('gives every stored field as JSON', async () => {
    const { code, out } = await runs('fs-load', 'json');
    expect(code).toBe(0);
    const doc = JSON.parse(out);
    expect(doc.benchmark).toBe('fs-load');
    expect(doc.runs.map((r: { runId: string }) => r.runId)).toEqual(['fs-load-g2-a1', 'fs-load-g1-a2', 'fs-load-g1-a1']);
    const g11 = results.get('fs-load-g1-a1')!;
    expect(doc.runs[2]).toMatchObject({
      runId: 'fs-load-g1-a1',
      benchmark: 'fs-load',
      generation: 1,
      attempt: 1,
      startedAt: '2025-01-04T12:00:00.000Z',
      requests: 400,
      errors: 1,
      throughput: g11.summary.throughput,
      p99Ms: g11.latencyMs.p99,
      sloPassed: true,
      reports: { json: '/reports/fs-load-g1-a1-report.json' },
    });
    expect(doc.runs[0].sloPassed).toBeNull();
  });

  it('says so, and succeeds, for a benchmark with no runs', async () => {
    const { code, out, err } = await runs('nothing');
    expect(code).toBe(0);
    expect(out).toBe('');
    expect(err).toMatch(/^No runs found for benchmark nothing: no run of it is in .*results\.db\.\n$/);
    expect(JSON.parse((await runs('nothing', 'json')).out)).toEqual({ benchmark: 'nothing', runs: [] });
  });

  it('tells a state folder without a results database from one that does not exist', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'aifb-cli-runs-empty-'));
    try {
      const none = await runs('fs-load', 'table', empty);
      expect(none.code).toBe(0);
      expect(none.err).toMatch(/results\.db does not exist yet \(no run has been collected in this state folder\)/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
    const missing = await runs('fs-load', 'table', join(state, 'no-such-folder'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^Error: state folder .*no-such-folder does not exist; point --state \(or \$AIFB_STATE\)/);
  });

  it('reads while a controller holds the database open and writing, without changing it', async () => {
    const writer = new ResultsDb(join(state, 'results.db'));
    try {
      writer.saveRun({ ...results.get('other-g1-a1')!, runId: 'other-g1-a2', attempt: 2, startedAt: '2025-01-06T12:40:00.000Z' }, {});
      const { code, out } = await runs('other');
      expect(code).toBe(0);
      expect(out.split('\n').slice(1, 3).map((l) => l.split(/\s+/)[0])).toEqual(['other-g1-a2', 'other-g1-a1']);
    } finally {
      writer.close();
    }
    const raw = new Database(join(state, 'results.db'), { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('refuses an unknown output format', async () => {
    const { code, err } = await runs('fs-load', 'xml' as never);
    expect(code).toBe(1);
    expect(err).toMatch(/unknown output format "xml"; use one of table, json, yaml/);
  });
});

const logs = async (opts: { name: string; run?: string; service?: boolean; tail?: number }) => {
  const io = capture();
  const code = await runLogs({ stateDir: state, resourcesDir: join(state, 'no-resources'), ...opts }, io);
  return { code, ...io };
};

describe('aifbctl logs', () => {
  it("prints the latest run's runner output, failed runs included", async () => {
    const { code, out, err } = await logs({ name: 'fs-load' });
    expect(code).toBe(0);
    expect(err).toMatch(/^Logs of run fs-load-g3-a1 \(/);
    expect(out).toBe('[stderr] error: cannot reach http://127.0.0.1:9\n');
  });

  it('prefixes every line with its rank when several ranks wrote, and marks stderr', async () => {
    const { code, out } = await logs({ name: 'fs-load', run: 'fs-load-g2-a1' });
    expect(code).toBe(0);
    expect(out).toBe('[rank 0] zero one\n[rank 0] zero two\n[rank 1] one one\n[rank 1 stderr] rank one complains\n');
  });

  it('prints a single rank bare, and --tail keeps the last lines of each file', async () => {
    const all = await logs({ name: 'fs-load', run: 'fs-load-g1-a1' });
    expect(all.out).toBe('{"event":"started","rank":0}\n{"event":"done","rank":0,"exitCode":0}\n[stderr] warning: slow disk\n');
    const tail = await logs({ name: 'fs-load', run: 'fs-load-g1-a1', tail: 1 });
    expect(tail.out).toBe('{"event":"done","rank":0,"exitCode":0}\n[stderr] warning: slow disk\n');
  });

  it('says clearly when there is nothing: a run without logs, an unknown run, a benchmark that never ran', async () => {
    const quiet = await logs({ name: 'fs-load', run: 'fs-load-g1-a2' });
    expect(quiet.code).toBe(0);
    expect(quiet.out).toBe('');
    expect(quiet.err).toMatch(/Run fs-load-g1-a2 has no runner log: no runner\*\.stdout\.log or runner\*\.stderr\.log in /);
    const unknown = await logs({ name: 'fs-load', run: 'fs-load-g9-a9' });
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/run "fs-load-g9-a9" not found for benchmark fs-load; known runs: fs-load-g3-a1, fs-load-g2-a1, fs-load-g1-a2, fs-load-g1-a1/);
    const never = await logs({ name: 'nothing' });
    expect(never.code).toBe(1);
    expect(never.err).toMatch(/benchmark nothing has no runs in /);
  });

  it("prints the log of the benchmark's newest service launch with --service", async () => {
    const { code, out, err } = await logs({ name: 'fs-load', service: true });
    expect(code).toBe(0);
    expect(err).toMatch(/^Logs of service fs-load-svc \(launch .*fs-load-svc\/g1-a2\)/);
    expect(out).toBe('server listening on :8000\nGET /health 200\n');
    const none = await logs({ name: 'other', service: true });
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no service launch found for benchmark other \(looked for .*other-svc/);
  });
});
